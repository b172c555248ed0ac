from django.urls import path
from rest_framework.routers import SimpleRouter

from medications import views

# The reminders routes come first and ids are digits only, so "current", "upcoming",
# "adherence" and "reminders" are never read as a medication id.
router = SimpleRouter()
router.register("reminders", views.ReminderViewSet, basename="reminder")
router.register("", views.MedicationViewSet, basename="medication")

urlpatterns = [
    path("reminders/confirm/<str:token>/", views.ReminderConfirmView.as_view(), name="reminder-confirm"),
    path("reminders/snooze/<str:token>/", views.ReminderSnoozeView.as_view(), name="reminder-snooze"),
    *router.urls,
]
