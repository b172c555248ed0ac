"""Write use cases for symptoms and moods."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from medications.models import Medication
from symptoms.models import Mood, Symptom

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
