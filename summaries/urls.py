"""Routes of the summaries app, included from ``config/urls.py``."""

from django.urls import path

from summaries import views

dashboard_urlpatterns = [path("", views.DashboardView.as_view(), name="dashboard")]
report_urlpatterns = [path("", views.ReportExportView.as_view(), name="report-export")]
overview_urlpatterns = [path("", views.PatientOverviewView.as_view(), name="patient-overview")]
export_urlpatterns = [path("", views.ExportView.as_view(), name="export")]
