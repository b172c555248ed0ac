from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views

router = SimpleRouter()
router.register("caregivers", views.CaregiverViewSet, basename="caregiver")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("patients/", views.PatientListViewSet.as_view({"get": "list"}), name="patient-list"),
    path("doctors/", views.DoctorListViewSet.as_view({"get": "list"}), name="doctor-list"),
    path("access-log/", views.AccessLogViewSet.as_view({"get": "list"}), name="access-log"),
    path("assign-doctor/", views.AssignDoctorView.as_view(), name="assign-doctor"),
    path("caregivers/accept/<str:token>/", views.CaregiverAcceptView.as_view(), name="caregiver-accept"),
    path("caregivers/unsubscribe/<str:token>/", views.CaregiverUnsubscribeView.as_view(), name="caregiver-unsubscribe"),
    path(
        "missed-dose-alerts/unsubscribe/<str:token>/",
        views.DoctorAlertsUnsubscribeView.as_view(),
        name="doctor-alerts-unsubscribe",
    ),
    *router.urls,
]
