"""Write use cases for medications: create, update, delete, and keeping ``next_dose_at`` true."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from medications.models import INTERVAL_FIELDS, Frequency, Medication
from medications.schedule import HHMM, REGIMEN_COLUMNS, Regimen, next_dose_after
from medications.services import stock

MAX_CUSTOM_TIMES = 12
REGIMEN_FIELDS = (
    "days_of_week",
    "every_n_days",
    "cycle_on_days",
    "cycle_off_days",
    *INTERVAL_FIELDS,
    "dose_quantity",
    "dose_unit",
    "taper",
)
# Stock is moved by answers and refills with F() (services/stock.py); an edit writes it only when
# the client sent it (a count of what is really in the box), and then opens a new refill cycle.
STOCK_FIELDS = ("stock_quantity", "refill_threshold_days")
_STOCK_COLUMNS = ("stock_quantity", "refill_notified_at")
EDITABLE_FIELDS = (
    "name",
    "dosage",
    "frequency",
    "custom_schedule",
    "start_date",
    "end_date",
    "notes",
    "is_active",
    *REGIMEN_FIELDS,
    *STOCK_FIELDS,
)
# A change to any of these restarts the schedule from now (a dose quantity does not move a dose).
SCHEDULE_FIELDS = tuple(name for name in REGIMEN_COLUMNS if name not in ("dose_quantity", "taper"))
# Cleared (rather than refused) when the frequency no longer takes them and the client did not
# send them: a PATCH from "interval" to "once_daily", or from a weekly regimen to "as_needed".
_DAY_RULE_DEFAULTS = {"days_of_week": None, "every_n_days": 1, "cycle_on_days": None, "cycle_off_days": None}


def normalise_custom_schedule(frequency: str, schedule: Any, *, given: bool) -> list[str]:
    """Validate ``custom_schedule`` for ``frequency`` and return it sorted.

    ``given`` says whether the client sent the field; when it did not and the frequency is not
    custom, a stored schedule is simply cleared (PATCH from custom to once_daily).
    """
    if frequency != Frequency.CUSTOM:
        if given and schedule:
            raise ValidationError(
                {"custom_schedule": ["Only the custom frequency takes a schedule; leave it empty or null."]}
            )
        return []
    if not schedule:
        raise ValidationError({"custom_schedule": ['The custom frequency needs 1 to 12 times, e.g. ["08:00"].']})
    if not isinstance(schedule, list) or not all(isinstance(item, str) for item in schedule):
        raise ValidationError({"custom_schedule": ['Give a list of "HH:MM" strings.']})
    bad = [item for item in schedule if not HHMM.match(item)]
    if bad:
        raise ValidationError({"custom_schedule": [f'Times must be "HH:MM" (00:00–23:59); invalid: {bad[0]!r}.']})
    if len(set(schedule)) != len(schedule):
        raise ValidationError({"custom_schedule": ["Times must be distinct."]})
    if len(schedule) > MAX_CUSTOM_TIMES:
        raise ValidationError({"custom_schedule": [f"At most {MAX_CUSTOM_TIMES} times a day."]})
    return sorted(schedule)


def compute_next_dose(medication: Medication, *, patient: User, after: datetime.datetime) -> datetime.datetime | None:
    """The first dose of ``medication`` strictly after ``after`` in the patient's zone."""
    return next_dose_after(Regimen.of(medication), tz=patient.tzinfo, after=after)


def _validate(medication: Medication, *, given: set[str]) -> None:
    """Field rules that need to know what the client sent; the rest is ``Medication.clean``."""
    medication.custom_schedule = normalise_custom_schedule(
        medication.frequency, medication.custom_schedule, given="custom_schedule" in given
    )
    if medication.frequency != Frequency.INTERVAL:
        for name in INTERVAL_FIELDS:
            if name not in given:
                setattr(medication, name, None)
    if medication.frequency == Frequency.AS_NEEDED:
        for name, default in _DAY_RULE_DEFAULTS.items():
            if name not in given:
                setattr(medication, name, default)
    if medication.end_date is not None and medication.end_date < medication.start_date:
        raise ValidationError({"end_date": ["The end date cannot be before the start date."]})


def medication_create(*, patient: User, data: dict[str, Any], now: datetime.datetime | None = None) -> Medication:
    """Create a medication for ``patient``; its first reminder is the next dose after ``now``."""
    now = now or timezone.now()
    fields = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    medication = Medication(patient=patient, **fields)
    _validate(medication, given=set(data))
    medication.full_clean(exclude=["patient"])
    medication.next_dose_at = compute_next_dose(medication, patient=patient, after=now)
    with transaction.atomic():
        medication.save()
        if medication.stock_quantity is not None:
            transaction.on_commit(lambda: stock.enqueue_check(medication.pk))
    return medication


def medication_update(
    *, medication: Medication, data: dict[str, Any], now: datetime.datetime | None = None
) -> Medication:
    """Change editable fields (the owner never changes); end ≥ start is checked against the
    stored values too. A changed schedule restarts from ``now`` (doses already recorded stay); an
    edit that leaves the schedule alone keeps a due dose that the sweep has not reached yet."""
    now = now or timezone.now()
    before = {key: getattr(medication, key) for key in SCHEDULE_FIELDS}
    for key, value in data.items():
        if key not in EDITABLE_FIELDS:
            raise ValueError(f"{key} is not an editable medication field")
        setattr(medication, key, value)
    _validate(medication, given=set(data))
    medication.full_clean(exclude=["patient"])
    if any(getattr(medication, key) != value for key, value in before.items()):
        medication.next_dose_at = compute_next_dose(medication, patient=medication.patient, after=now)
    recount = "stock_quantity" in data
    if recount:
        medication.refill_notified_at = None
    # Never write back a stock read before a concurrent answer moved it.
    columns = [
        field.name
        for field in Medication._meta.concrete_fields
        if not field.primary_key and (recount or field.name not in _STOCK_COLUMNS)
    ]
    with transaction.atomic():
        medication.save(update_fields=columns)
        if recount and medication.stock_quantity is not None:
            transaction.on_commit(lambda: stock.enqueue_check(medication.pk))
    if not recount:
        medication.refresh_from_db(fields=list(_STOCK_COLUMNS))
    return medication


def medication_delete(*, medication: Medication) -> None:
    medication.delete()


def medications_reschedule_for_patient(*, patient: User, now: datetime.datetime | None = None) -> int:
    """Recompute ``next_dose_at`` for a patient's active medications (after a time-zone change)."""
    now = now or timezone.now()
    changed = []
    for medication in Medication.objects.filter(patient=patient, is_active=True):
        value = compute_next_dose(medication, patient=patient, after=now)
        if value != medication.next_dose_at:
            medication.next_dose_at = value
            changed.append(medication)
    Medication.objects.bulk_update(changed, ["next_dose_at"])
    return len(changed)
