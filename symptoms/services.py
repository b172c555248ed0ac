"""Write use cases for symptoms and moods, and the weekly digest."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from core.mail import EmailDeliveryError, send_templated_email
from medications.models import Medication
from medications.selectors import adherence_summary
from symptoms import selectors
from symptoms.models import DigestDelivery, Mood, Symptom

logger = logging.getLogger(__name__)

FUTURE_DATE = "The date cannot be in the future (in your time zone)."
UNKNOWN_MEDICATION = "Unknown medication id(s): {ids}. Only your own medications can be linked."
MOOD_ALREADY_LOGGED = "You have already logged a mood for this day."


def _check_not_future(*, patient: User, day: datetime.date) -> None:
    if day > patient.local_today():
        raise ValidationError({"date": [FUTURE_DATE]})


def _own_medications(*, patient: User, ids: Iterable[int]) -> list[Medication]:
    """The patient's medications with these ids. Any id that is not one of theirs, whether it
    exists for someone else or not at all, gets the same message, so nothing leaks."""
    wanted = sorted(set(ids))
    found = list(Medication.objects.filter(patient=patient, pk__in=wanted))
    missing = sorted(set(wanted) - {medication.pk for medication in found})
    if missing:
        raise ValidationError(
            {"related_medications": [UNKNOWN_MEDICATION.format(ids=", ".join(str(pk) for pk in missing))]}
        )
    return found


_SYMPTOM_FIELDS = ("name", "severity", "notes", "date")


@transaction.atomic
def symptom_create(*, patient: User, data: dict[str, Any]) -> Symptom:
    medications = _own_medications(patient=patient, ids=data.get("related_medications") or [])
    symptom = Symptom(patient=patient, **{field: data[field] for field in _SYMPTOM_FIELDS if field in data})
    symptom.date = symptom.date or patient.local_today()
    _check_not_future(patient=patient, day=symptom.date)
    symptom.full_clean()
    symptom.save()
    symptom.related_medications.set(medications)
    return symptom


@transaction.atomic
def symptom_update(*, symptom: Symptom, data: dict[str, Any]) -> Symptom:
    """Update the given fields (PUT or PATCH); the owner never changes."""
    patient = symptom.patient
    for field in _SYMPTOM_FIELDS:
        if field in data:
            setattr(symptom, field, data[field])
    if "date" in data:
        _check_not_future(patient=patient, day=symptom.date)
    symptom.full_clean()
    symptom.save()
    if "related_medications" in data:
        symptom.related_medications.set(_own_medications(patient=patient, ids=data["related_medications"]))
    return symptom


def symptom_delete(*, symptom: Symptom) -> None:
    symptom.delete()


_MOOD_FIELDS = ("mood", "notes", "date")


def _save_mood(mood: Mood) -> Mood:
    if Mood.objects.filter(patient=mood.patient, date=mood.date).exclude(pk=mood.pk).exists():
        raise ValidationError({"date": [MOOD_ALREADY_LOGGED]})
    mood.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            mood.save()
    except IntegrityError as exc:  # a concurrent request logged that day first
        raise ValidationError({"date": [MOOD_ALREADY_LOGGED]}) from exc
    return mood


def mood_create(*, patient: User, data: dict[str, Any]) -> Mood:
    mood = Mood(patient=patient, **{field: data[field] for field in _MOOD_FIELDS if field in data})
    mood.date = mood.date or patient.local_today()
    _check_not_future(patient=patient, day=mood.date)
    return _save_mood(mood)


def mood_update(*, mood: Mood, data: dict[str, Any]) -> Mood:
    for field in _MOOD_FIELDS:
        if field in data:
            setattr(mood, field, data[field])
    if "date" in data:
        _check_not_future(patient=mood.patient, day=mood.date)
    return _save_mood(mood)


def mood_delete(*, mood: Mood) -> None:
    mood.delete()


# --- Weekly digest ----------------------------------------------------------------------------

DIGEST_LOCAL_TIME = datetime.time(9, 0)
# How long after Sunday 09:00 local a digest may still go out (the beat ticks every 15 minutes;
# the rest covers a worker or beat that was down for a while).
DIGEST_CATCH_UP = datetime.timedelta(hours=3)
DIGEST_BATCH_SIZE = 500
SUNDAY = 6


class DigestTransientError(Exception):
    """The email could not be sent this time; the task retries with backoff."""


def digest_week_of(*, local_now: datetime.datetime) -> datetime.date | None:
    """The local Sunday whose digest is due at ``local_now``, or None outside the window."""
    if local_now.weekday() != SUNDAY:
        return None
    due = local_now.replace(hour=DIGEST_LOCAL_TIME.hour, minute=DIGEST_LOCAL_TIME.minute, second=0, microsecond=0)
    if due <= local_now < due + DIGEST_CATCH_UP:
        return local_now.date()
    return None


def digest_due_patients(
    *, now: datetime.datetime | None = None, limit: int = DIGEST_BATCH_SIZE
) -> list[tuple[int, str]]:
    """``(patient_id, week_of)`` pairs whose digest is due and not yet claimed, at most ``limit``.

    Time zones are few, patients many: the window is computed once per distinct zone, and the
    patients are selected by the database.
    """
    now = now or timezone.now()
    subscribers = User.objects.filter(role=Role.PATIENT, is_active=True, email_digest_enabled=True).exclude(email="")
    due: list[tuple[int, str]] = []
    for zone in subscribers.values_list("timezone", flat=True).distinct().order_by("timezone"):
        probe = User(timezone=zone or "UTC")
        week_of = digest_week_of(local_now=now.astimezone(probe.tzinfo))
        if week_of is None:
            continue
        ids = (
            subscribers.filter(timezone=zone)
            .exclude(digest_deliveries__week_of=week_of)
            .order_by("id")
            .values_list("id", flat=True)[: limit - len(due)]
        )
        due.extend((pk, week_of.isoformat()) for pk in ids)
        if len(due) >= limit:
            break
    return due


def digest_context(*, patient: User, week_of: datetime.date) -> dict[str, Any]:
    """The past seven local days up to ``week_of``: symptoms, mood, adherence."""
    start = week_of - datetime.timedelta(days=6)
    summary = selectors.symptom_summary(patient=patient, window=(start, week_of))
    mood = selectors.mood_stats(patient=patient, start=start, end=week_of)
    adherence = adherence_summary(patient=patient, days=7)
    return {
        "name": patient.display_name,
        "start": start,
        "end": week_of,
        "symptoms": summary,
        "symptom_total": sum(row["count"] for row in summary),
        "mood_average": mood["average"],
        "mood_logged_days": mood["logged_days"],
        "adherence_rate": adherence["adherence_rate"],
        "doses_taken": adherence["taken_reminders"],
        "doses_total": adherence["total_reminders"],
    }


def digest_send(*, patient_id: int, week_of: datetime.date) -> bool:
    """Send one patient's digest for ``week_of`` at most once. True when this call sent it.

    Idempotent by the ``digest_one_per_patient_week`` constraint: the row is claimed first; a
    second call finds it and stops. A transient failure releases the claim and raises, so the
    retry can claim it again; a permanent one keeps it as ``failed``.
    """
    patient = User.objects.filter(pk=patient_id, role=Role.PATIENT, is_active=True, email_digest_enabled=True).first()
    if patient is None or not patient.email:
        return False
    try:
        with transaction.atomic():
            delivery = DigestDelivery.objects.create(patient=patient, week_of=week_of)
    except IntegrityError:
        return False
    context = digest_context(patient=patient, week_of=week_of)
    try:
        send_templated_email(
            to=patient.email,
            subject="Your MediTrack weekly summary",
            template="symptoms/email/weekly_digest",
            context=context,
        )
    except EmailDeliveryError as exc:
        if exc.permanent:
            DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.FAILED)
            logger.warning("Weekly digest %s for patient %s failed permanently", delivery.pk, patient.pk)
            return False
        DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING).delete()
        raise DigestTransientError(str(exc)) from exc
    DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.SENT, sent_at=timezone.now())
    logger.info("Weekly digest %s sent to patient %s", delivery.pk, patient.pk)
    return True
