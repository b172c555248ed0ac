"""Write use cases for doses: answering a reminder, logging an unscheduled dose, the signed
confirmation link."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.readcache import data_changed
from core.links import LinkSigner
from medications.events import dose_updated, send_on_commit
from medications.models import Medication, Reminder, ReminderKind, ReminderStatus

# The emailed "I took it" link (see core.links: a GET page whose button POSTs).
CONFIRM_LINK = LinkSigner(salt="medications.reminder-confirm", max_age=datetime.timedelta(hours=24), key="r")
ANSWERS = (ReminderStatus.TAKEN, ReminderStatus.SKIPPED)
# A logged dose may be dated a little ahead of the server clock (a phone's clock drifts).
CLOCK_SKEW = datetime.timedelta(minutes=5)


def confirm_token(reminder_id: int) -> str:
    return CONFIRM_LINK.token(reminder_id)


def answer_refusal(*, reminder: Reminder, status: str, now: datetime.datetime | None = None) -> str | None:
    """Why ``status`` cannot be recorded for this dose now (a sentence for the user), or None."""
    now = now or timezone.now()
    if reminder.kind == ReminderKind.LOGGED and status != ReminderStatus.TAKEN:
        return "A logged dose was taken; delete it from the admin if it is wrong."
    if reminder.scheduled_for > now + CLOCK_SKEW:
        return "This dose is not due yet."
    return None


def reminder_answer(*, reminder: Reminder, status: str, now: datetime.datetime | None = None) -> Reminder:
    """Record "taken" or "skipped". Idempotent (the same answer again changes nothing, not even
    ``responded_at``); a dose can be corrected from one answer to the other, and a missed, failed
    or unanswered one can still be answered."""
    if status not in ANSWERS:
        raise ValueError(status)
    now = now or timezone.now()
    refusal = answer_refusal(reminder=reminder, status=status, now=now)
    if refusal:
        raise ValidationError({"status": [refusal]})
    if reminder.status == status:
        return reminder
    with transaction.atomic():
        Reminder.objects.filter(pk=reminder.pk).update(status=status, responded_at=now)
        data_changed(reminder.patient_id)
        send_on_commit(dose_updated, sender=Reminder, reminder_id=reminder.pk, patient_id=reminder.patient_id)
    reminder.status = status
    reminder.responded_at = now
    return reminder


def dose_log(*, medication: Medication, taken_at: datetime.datetime | None = None, now=None) -> Reminder:
    """Log a dose taken now (or at ``taken_at``): an as-needed or unscheduled dose."""
    now = now or timezone.now()
    taken_at = taken_at or now
    if taken_at > now + CLOCK_SKEW:
        raise ValidationError({"taken_at": ["A dose cannot be logged in the future."]})
    if taken_at.astimezone(medication.patient.tzinfo).date() < medication.start_date:
        raise ValidationError({"taken_at": ["This is before the medication's start date."]})
    with transaction.atomic():
        dose = Reminder.objects.create(
            medication=medication,
            patient_id=medication.patient_id,
            kind=ReminderKind.LOGGED,
            scheduled_for=taken_at,
            status=ReminderStatus.TAKEN,
            responded_at=now,
        )
        send_on_commit(dose_updated, sender=Reminder, reminder_id=dose.pk, patient_id=dose.patient_id)
    return dose
