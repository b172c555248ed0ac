"""The data of each live event: ids and the display fields the API already shows the receiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rest_framework.fields import DateTimeField

from accounts.models import Role
from medications.models import Medication, Reminder
from symptoms.insights import cache as insight_cache

_datetime = DateTimeField()  # the API's own datetime format


def _iso(value) -> str | None:
    return None if value is None else _datetime.to_representation(value)


@dataclass
class DoseEvent:
    data: dict[str, Any]
    patient_id: int
    doctor_id: int | None  # the assigned, verified doctor, who also reads this dose
    push: bool = False  # the patient takes reminders by push
    extra: dict[str, Any] = field(default_factory=dict)  # patient-only display fields


def dose_event(reminder_id: int) -> DoseEvent | None:
    """A reminder as the dose history shows it (``ReminderSerializer``'s fields) plus its owner."""
    reminder = (
        Reminder.objects.select_related("medication", "patient", "patient__assigned_doctor")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:
        return None
    patient = reminder.patient
    doctor = patient.assigned_doctor
    data = {
        "id": reminder.pk,
        "patient": patient.pk,
        "medication": reminder.medication_id,
        "medication_name": reminder.medication.name,
        "kind": reminder.kind,
        "scheduled_for": _iso(reminder.scheduled_for),
        "status": reminder.status,
        "sent_at": _iso(reminder.sent_at),
        "responded_at": _iso(reminder.responded_at),
        "snoozed_until": _iso(reminder.snoozed_until),
    }
    local = reminder.scheduled_for.astimezone(patient.tzinfo)
    visible_doctor = (
        doctor is not None
        and doctor.role == Role.DOCTOR
        and doctor.is_verified_doctor
        and doctor.is_active
        and patient.role == Role.PATIENT
    )
    return DoseEvent(
        data=data,
        patient_id=patient.pk,
        doctor_id=doctor.pk if visible_doctor else None,
        push=patient.push_reminders_enabled,
        extra={"dosage": reminder.medication.dosage, "local_time": local.strftime("%H:%M")},
    )


STOCK_FIELDS = ("stock_quantity", "days_of_supply", "runs_out_on")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def stock_event_data(medication_id: int) -> tuple[int, dict[str, Any]] | None:
    medication = Medication.objects.filter(pk=medication_id).first()
    if medication is None:
        return None
    data = {"medication": medication.pk, "medication_name": medication.name, "dosage": medication.dosage}
    # The stock fields of the adherence-loop work, as the medication object shows them.
    data.update({name: _plain(getattr(medication, name)) for name in STOCK_FIELDS if hasattr(medication, name)})
    return medication.patient_id, data


def insight_event_data(patient_id: int) -> dict[str, Any]:
    latest = insight_cache.store().get(insight_cache.latest_key(patient_id)) or {}
    return {
        "patient": patient_id,
        "analyzed_period": latest.get("analyzed_period"),
        "source": latest.get("source"),
        "generated_at": latest.get("generated_at"),
    }
