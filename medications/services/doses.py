"""Write use cases for doses: answering a reminder, snoozing it, logging an unscheduled dose,
the signed confirm and snooze links."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.readcache import data_changed
from core.links import LinkSigner
from medications.events import dose_updated, send_on_commit
from medications.models import Medication, Reminder, ReminderKind, ReminderStatus
from medications.services import stock

# The emailed "I took it" link (see core.links: a GET page whose button POSTs).
CONFIRM_LINK = LinkSigner(salt="medications.reminder-confirm", max_age=datetime.timedelta(hours=24), key="r")
# The emailed "Snooze 15 min" link (the same machinery; the API takes 5–240 minutes).
SNOOZE_LINK = LinkSigner(salt="medications.reminder-snooze", max_age=datetime.timedelta(hours=24), key="r")
SNOOZE_LINK_MINUTES = 15
SNOOZE_MINUTES = (5, 240)
ANSWER_WINDOW = datetime.timedelta(hours=4)  # unanswered this long after its time: missed
ANSWERS = (ReminderStatus.TAKEN, ReminderStatus.SKIPPED)
# A logged dose may be dated a little ahead of the server clock (a phone's clock drifts).
CLOCK_SKEW = datetime.timedelta(minutes=5)


def confirm_token(reminder_id: int) -> str:
    return CONFIRM_LINK.token(reminder_id)


def snooze_token(reminder_id: int) -> str:
    return SNOOZE_LINK.token(reminder_id)


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
    taking = status == ReminderStatus.TAKEN
    quantity = (
        stock.quantity_for(reminder.medication, reminder.scheduled_for, tz=reminder.patient.tzinfo) if taking else None
    )
    with transaction.atomic():
        # Conditional: of two concurrent answers only one changes the dose (and moves its stock).
        changed = Reminder.objects.filter(pk=reminder.pk).exclude(status=status).update(status=status, responded_at=now)
        if changed:
            ids = {"reminder_id": reminder.pk, "medication_id": reminder.medication_id}
            if taking:
                stock.stock_take(**ids, quantity=quantity)
            else:
                stock.stock_put_back(**ids)
            data_changed(reminder.patient_id)
            send_on_commit(dose_updated, sender=Reminder, reminder_id=reminder.pk, patient_id=reminder.patient_id)
    if not changed:  # answered the same way meanwhile
        reminder.refresh_from_db(fields=["status", "responded_at"])
        return reminder
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
        if stock.stock_take(
            reminder_id=dose.pk,
            medication_id=medication.pk,
            quantity=stock.quantity_for(medication, taken_at, tz=medication.patient.tzinfo),
        ):
            data_changed(medication.patient_id)  # the stock moved by a bulk UPDATE (no signal)
        send_on_commit(dose_updated, sender=Reminder, reminder_id=dose.pk, patient_id=dose.patient_id)
    return dose


def snooze_refusal(*, reminder: Reminder, minutes: int, now: datetime.datetime | None = None) -> str | None:
    """Why this dose cannot be snoozed for ``minutes`` now (a sentence for the user), or None."""
    now = now or timezone.now()
    if reminder.kind != ReminderKind.SCHEDULED or reminder.status != ReminderStatus.SENT:
        return f"Only a reminder that was sent and is not answered can be snoozed (this dose is {reminder.status})."
    missed_at = reminder.scheduled_for + ANSWER_WINDOW
    if now + datetime.timedelta(minutes=minutes) > missed_at:
        room = int((missed_at - now).total_seconds() // 60)
        local = missed_at.astimezone(reminder.patient.tzinfo)
        if room < SNOOZE_MINUTES[0]:
            return f"This dose counts as missed at {local:%H:%M}; it is too late to snooze it."
        return f"This dose counts as missed at {local:%H:%M}; snooze it for at most {room} minutes."
    return None


def reminder_snooze(*, reminder: Reminder, minutes: int = SNOOZE_LINK_MINUTES, now=None) -> Reminder:
    """One more email at ``now + minutes`` if the dose is still unanswered then (the sweep sends
    it, once: see ``medications.services.nudges``). Snoozing again moves the time."""
    now = now or timezone.now()
    if not SNOOZE_MINUTES[0] <= minutes <= SNOOZE_MINUTES[1]:
        raise ValidationError({"minutes": [f"Snooze for {SNOOZE_MINUTES[0]} to {SNOOZE_MINUTES[1]} minutes."]})
    refusal = snooze_refusal(reminder=reminder, minutes=minutes, now=now)
    if refusal:
        raise ValidationError({"status": [refusal]})
    until = now + datetime.timedelta(minutes=minutes)
    with transaction.atomic():
        # Conditional: a dose answered or missed meanwhile is not snoozed.
        changed = Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENT).update(snoozed_until=until)
        if changed != 1:
            raise ValidationError({"status": ["This dose was answered or closed meanwhile; nothing was snoozed."]})
        data_changed(reminder.patient_id)
        send_on_commit(dose_updated, sender=Reminder, reminder_id=reminder.pk, patient_id=reminder.patient_id)
    reminder.snoozed_until = until
    return reminder
