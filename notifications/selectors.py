"""The data of each live event: ids and the display fields the API already shows the receiver,
written by the API's own serializers and as its renderer writes them (plain JSON values, for the
channel layer and the ``LiveEvent`` row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db.models import F

from core.renderers import dumps
from medications.models import Medication, Reminder
from medications.serializers import MedicationSerializer, ReminderSerializer
from symptoms.insights import cache as insight_cache


def _json(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as the API's JSON has it: datetimes as its strings, decimals as numbers."""
    return orjson.loads(dumps(data))


@dataclass
class DoseEvent:
    data: dict[str, Any]
    patient_id: int
    doctor_id: int | None  # the assigned, verified doctor, who also reads this dose
    push: bool = False  # the patient takes reminders by push
    extra: dict[str, Any] = field(default_factory=dict)  # patient-only display fields


def dose_event(reminder_id: int) -> DoseEvent | None:
    """A reminder as the dose history shows it (``ReminderSerializer``) plus its owner."""
    events = dose_events([reminder_id])
    return events[0] if events else None


def dose_events(reminder_ids: list[int]) -> list[DoseEvent]:
    """``dose_event`` of each of these reminders that still exists, in one query (the sweep's
    batch of due doses)."""
    reminders = (
        Reminder.objects.select_related("medication", "patient", "patient__assigned_doctor")
        .annotate(medication_name=F("medication__name"))
        .filter(pk__in=reminder_ids)
        .order_by()
    )
    by_id = {reminder.pk: reminder for reminder in reminders}
    serializer = ReminderSerializer()
    return [_dose_event(by_id[pk], serializer) for pk in dict.fromkeys(reminder_ids) if pk in by_id]


def _dose_event(reminder: Reminder, serializer: ReminderSerializer) -> DoseEvent:
    patient = reminder.patient
    doctor = patient.reading_doctor
    local = reminder.scheduled_for.astimezone(patient.tzinfo)
    return DoseEvent(
        data=_json({**serializer.to_representation(reminder), "patient": patient.pk}),
        patient_id=patient.pk,
        doctor_id=doctor.pk if doctor else None,
        push=patient.push_reminders_enabled,
        extra={"dosage": reminder.medication.dosage, "local_time": local.strftime("%H:%M")},
    )


STOCK_FIELDS = ("stock_quantity", "days_of_supply", "runs_out_on")


def stock_event_data(medication_id: int) -> tuple[int, dict[str, Any]] | None:
    """The medication's id, name and dosage, and its stock fields as the medication object shows
    them (``MedicationSerializer``)."""
    medication = Medication.objects.select_related("patient").filter(pk=medication_id).first()
    if medication is None:
        return None
    shown = MedicationSerializer().to_representation(medication)
    data = {
        "medication": medication.pk,
        "medication_name": medication.name,
        "dosage": medication.dosage,
        **{name: shown[name] for name in STOCK_FIELDS},
    }
    return medication.patient_id, _json(data)


def insight_event_data(patient_id: int) -> dict[str, Any]:
    latest = insight_cache.store().get(insight_cache.latest_key(patient_id)) or {}
    return {
        "patient": patient_id,
        "analyzed_period": latest.get("analyzed_period"),
        "source": latest.get("source"),
        "generated_at": latest.get("generated_at"),
    }
