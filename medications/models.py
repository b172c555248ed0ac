from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import PatientScopedQuerySet
from core.validators import reject_html


class Frequency(models.TextChoices):
    ONCE_DAILY = "once_daily", "Once daily"
    TWICE_DAILY = "twice_daily", "Twice daily"
    THREE_TIMES_DAILY = "three_times_daily", "Three times daily"
    AS_NEEDED = "as_needed", "As needed"
    CUSTOM = "custom", "Custom schedule"


# Local (patient time zone) "HH:MM" times for the fixed frequencies.
FIXED_TIMES: dict[str, tuple[str, ...]] = {
    Frequency.ONCE_DAILY: ("08:00",),
    Frequency.TWICE_DAILY: ("08:00", "20:00"),
    Frequency.THREE_TIMES_DAILY: ("08:00", "14:00", "20:00"),
    Frequency.AS_NEEDED: (),
}


class Medication(models.Model):
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=200, validators=[reject_html])
    dosage = models.CharField(max_length=100, validators=[reject_html])
    frequency = models.CharField(max_length=32, choices=Frequency.choices)
    custom_schedule = models.JSONField(default=list, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=2000, validators=[reject_html])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The next scheduled dose not yet turned into a reminder row (aware UTC instant), or null when
    # nothing is scheduled (inactive, as needed, ended). Kept by the services and advanced by the
    # sweep, so the sweep reads only due medications through the partial index below.
    next_dose_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="med_patient_created_idx"),
            models.Index(fields=["patient", "is_active", "start_date"], name="med_patient_active_idx"),
            models.Index(fields=["next_dose_at"], name="med_next_dose_idx", condition=Q(next_dose_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="medication_end_after_start",
            ),
            models.CheckConstraint(condition=Q(frequency__in=Frequency.values), name="medication_frequency_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.dosage}"

    @property
    def reminder_times(self) -> list[str]:
        """The local "HH:MM" times at which reminders fire."""
        if self.frequency == Frequency.CUSTOM:
            return sorted(self.custom_schedule or [])
        return list(FIXED_TIMES.get(self.frequency, ()))

    def is_current_on(self, today: datetime.date) -> bool:
        return self.is_active and self.start_date <= today and (self.end_date is None or today <= self.end_date)

    @property
    def is_current(self) -> bool:
        """Current on the owner's local today. Lists annotate the owner's zone
        (``patient_timezone``) instead of loading the owner."""
        zone = self.__dict__.get("patient_timezone")
        if zone is None:
            return self.is_current_on(self.patient.local_today())
        return self.is_current_on(timezone.now().astimezone(ZoneInfo(zone or "UTC")).date())


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    TAKEN = "taken", "Taken"
    SKIPPED = "skipped", "Skipped"
    MISSED = "missed", "Missed"
    FAILED = "failed", "Failed"


class ReminderKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled dose"
    LOGGED = "logged", "Logged dose (as needed / unscheduled)"


class Reminder(models.Model):
    """One dose: a scheduled reminder (unique per medication and time) or a logged dose."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="reminders")
    # Denormalised owner: scoping and per-patient aggregation without a join.
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices, default=ReminderKind.SCHEDULED)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Delivery bookkeeping (never shown in the API). A sweep claims a batch of due rows by writing
    # its own token with a conditional UPDATE, so two sweeps never email the same dose; ``attempts``
    # is compared-and-swapped by each retry so a redelivered retry message sends nothing.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # Missed-dose alerts: set when the dose becomes missed and someone is to be told (an accepted
    # caregiver, or the doctor with ``notify_doctor_on_missed``); a sweep claims the flagged rows
    # (conditional UPDATE alert_due → false, writing its token) and reports them once.
    alert_due = models.BooleanField(default=False, editable=False)
    # Snooze: one more email at ``snoozed_until`` while the dose is still ``sent``. The sweep claims
    # it with a conditional UPDATE that sets ``snooze_sent_at`` (and its token in ``nudge_claim``);
    # snoozing again moves ``snoozed_until`` past ``snooze_sent_at``, which makes it due again.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    nudge_claim = models.UUIDField(null=True, blank=True, editable=False)
    # Remind again (profile ``remind_again_minutes``): when the one follow-up email was claimed.
    followup_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    alert_claim = models.UUIDField(null=True, blank=True, editable=False)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-scheduled_for", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["medication", "scheduled_for"],
                condition=Q(kind="scheduled"),
                name="reminder_one_per_scheduled_dose",
            ),
            models.CheckConstraint(condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="reminder_status_due_idx"),
            models.Index(fields=["patient", "-scheduled_for", "-id"], name="reminder_patient_time_idx"),
            models.Index(fields=["claim"], name="reminder_claim_idx", condition=Q(claim__isnull=False)),
            models.Index(fields=["patient"], name="reminder_alert_due_idx", condition=Q(alert_due=True)),
            models.Index(
                fields=["snoozed_until"],
                name="reminder_snoozed_idx",
                condition=Q(status="sent", snoozed_until__isnull=False),
            ),
            models.Index(
                fields=["alert_claim"], name="reminder_alert_claim_idx", condition=Q(alert_claim__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} ({self.status})"
