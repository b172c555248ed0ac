from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.admin import rate_limited_admin_login
from core.views import DocsRedirectView
from medications.views import CalendarFeedView
from summaries import urls as summaries_urls
from symptoms import urls as symptoms_urls
from symptoms.insights.views import InsightsView

urlpatterns = [
    path("", DocsRedirectView.as_view(), name="root"),
    path("api/", DocsRedirectView.as_view(), name="api-root"),
    path("favicon.ico", RedirectView.as_view(url=static("core/favicon.svg"), permanent=True), name="favicon"),
    # The admin's login form, rate-limited like the API login (before the admin's own URLs).
    path("admin/login/", rate_limited_admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/", include("core.urls")),
    # The doctor's patient overview reads every app, so it lives in summaries (accounts must not
    # import them); it must come before the accounts include.
    path("api/auth/patients/<int:pk>/", include(summaries_urls.overview_urlpatterns)),
    # The export reads every app, so it lives in summaries; before the accounts include too.
    path("api/auth/export/", include(summaries_urls.export_urlpatterns)),
    path("api/auth/", include("accounts.urls")),
    # Before any `api/symptoms/` include, so the router never shadows it.
    path("api/symptoms/ai_insights/", InsightsView.as_view(), name="symptoms-ai-insights"),
    path("api/symptoms/", include(symptoms_urls.symptom_urlpatterns)),
    path("api/moods/", include(symptoms_urls.mood_urlpatterns)),
    path("api/dashboard/", include(summaries_urls.dashboard_urlpatterns)),
    path("api/reports/export/", include(summaries_urls.report_urlpatterns)),
    path("api/medications/", include("medications.urls")),
    path("api/notifications/", include("notifications.urls")),
    # The calendar feed: the token is the credential (core/logsafe.py keeps it out of every log).
    path("api/calendar/<str:token>.ics", CalendarFeedView.as_view(), name="calendar-feed"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html"), name="redoc"),
]
