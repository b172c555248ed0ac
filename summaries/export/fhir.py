"""The FHIR R4 bundle (``type: collection``), built with and validated by ``fhir.resources``.

``fhir.resources`` models R5 at its top level; its ``R4B`` package models FHIR 4.3, which keeps
R4's shape for every resource written here (Patient, RelatedPerson, MedicationStatement,
MedicationAdministration, Observation, Bundle). Each resource is validated by its model before it is written, the bundle
envelope too, and entries are streamed one by one, so memory stays bounded.

Resources: one ``Patient``; one ``MedicationStatement`` per medication, its ``dosage.timing``
expressing the regimen (``timeOfDay``, ``dayOfWeek``, ``frequency``/``period``, ``boundsPeriod``;
one dosage per taper step, and per on-phase of a cycle with an end date: see ``dosages``); one
``RelatedPerson`` per caregiver (the patient's own export only); one ``MedicationAdministration``
per taken dose; one ``Observation`` per symptom (severity 1–10 as ``valueInteger``) and per mood
(1–5). What FHIR has no place for here (stock and refills, snoozes, the access log, the AI
insight) is in the JSON and CSV exports. Every resource carries a
stable ``identifier`` (``{PUBLIC_URL}/fhir/identifier/<kind>`` + the row id), and its
``fullUrl`` is a UUID derived from it, the same in every export.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir_core.types import (
    DateTimeType,
    DecimalType,
    IdType,
    InstantType,
    IntegerType,
    MarkdownType,
    StringType,
)
from pydantic import TypeAdapter

from accounts.models import Caregiver, CaregiverStatus, User
from medications.models import Frequency, Medication, ReminderStatus
from medications.schedule import Regimen
from summaries.export import rows
from symptoms.models import Mood, MoodLevel

MODELS = {
    "Patient": Patient,
    "MedicationStatement": MedicationStatement,
    "MedicationAdministration": MedicationAdministration,
    "Observation": Observation,
    "RelatedPerson": RelatedPerson,
}
# Fixed: fullUrls derived from it stay the same across exports and servers.
NAMESPACE = uuid.UUID("6f1c1e2a-4f0b-5a8e-9d43-2c7b9e1f0a55")
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLUSH_ENTRIES = 200
# A cycle with an end date is one dosage per on-phase up to this many (see ``dosages``).
MAX_CYCLE_DOSAGES = 52
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FhirValidationError(Exception):
    """A resource the models refused: a bug, never sent."""


def instant(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def identifier(kind: str, pk: int) -> dict[str, str]:
    return {"system": f"{settings.PUBLIC_URL}/fhir/identifier/{kind}", "value": str(pk)}


def full_url(kind: str, pk: int) -> str:
    ident = identifier(kind, pk)
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, ident['system'] + '|' + ident['value'])}"


Path = tuple[str | int, ...]
_ID, _STRING, _MARKDOWN = TypeAdapter(IdType), TypeAdapter(StringType), TypeAdapter(MarkdownType)
_DATETIME, _INSTANT = TypeAdapter(DateTimeType), TypeAdapter(InstantType)
_INTEGER, _DECIMAL = TypeAdapter(IntegerType), TypeAdapter(DecimalType)
# The values that differ between two resources built by the same code from the same kind of row,
# with the FHIR type the model checks at that place.
VARYING: dict[str, dict[Path, TypeAdapter]] = {
    "MedicationAdministration": {
        ("id",): _ID,
        ("identifier", 0, "value"): _STRING,
        ("effectiveDateTime",): _DATETIME,
        ("dosage", "dose", "value"): _DECIMAL,
    },
    "Observation": {
        ("id",): _ID,
        ("identifier", 0, "value"): _STRING,
        ("code", "text"): _STRING,
        ("effectiveDateTime",): _DATETIME,
        ("issued",): _INSTANT,
        ("valueInteger",): _INTEGER,
        ("note", 0, "text"): _MARKDOWN,
    },
}


_ABSENT = object()


def _get(data: Any, path: Path) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return data


def _blanked(data: Any, path: Path) -> Any:
    """A copy of ``data`` with the value at ``path`` replaced by None (copies along the path only)."""
    if not path:
        return None
    step, rest = path[0], path[1:]
    if isinstance(data, dict) and step in data:
        return {**data, step: _blanked(data[step], rest)}
    if isinstance(data, list) and isinstance(step, int) and step < len(data):
        return [*data[:step], _blanked(data[step], rest), *data[step + 1 :]]
    return data


class Validator:
    """Validates every resource with ``fhir.resources`` before it is written, fast for long runs.

    A resource whose skeleton (itself with its ``VARYING`` values blanked) was not seen yet is
    validated whole by its model. One whose skeleton was (a second dose of the same medication: the
    same structure and the same fixed values) has only its varying values checked, each with the
    FHIR type the model uses there. Either way nothing the models would refuse is sent; the second
    path is what keeps 11,000 doses well within the benchmark's 5 s.
    """

    def __init__(self) -> None:
        self.skeletons: set[bytes] = set()

    def __call__(self, resource: dict[str, Any]) -> bytes:
        data = orjson.dumps(resource)
        varying = VARYING.get(resource["resourceType"], {})
        skeleton = resource
        for path in varying:
            skeleton = _blanked(skeleton, path)
        key = orjson.dumps(skeleton) if varying else data
        try:
            if key in self.skeletons:
                for path, adapter in varying.items():
                    value = _get(resource, path)
                    if value is not _ABSENT:
                        adapter.validate_python(value)
            else:
                MODELS[resource["resourceType"]].model_validate_json(data)
                self.skeletons.add(key)
        except ValueError as exc:
            raise FhirValidationError(f"{resource['resourceType']} {resource.get('id')}: {exc}") from exc
        return data


# --- Resources --------------------------------------------------------------------------------


def patient_resource(patient: User) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": f"patient-{patient.pk}",
        "identifier": [identifier("patient", patient.pk)],
        "active": patient.is_active,
    }
    if patient.first_name or patient.last_name:
        name: dict[str, Any] = {"text": patient.get_full_name()}
        if patient.last_name:
            name["family"] = patient.last_name
        if patient.first_name:
            name["given"] = [patient.first_name]
        resource["name"] = [name]
    telecom = []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if telecom:
        resource["telecom"] = telecom
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": float(Decimal(str(value))), "unit": unit}


def _regimen(medication: Medication) -> dict[str, Any]:
    """The regimen fields of a medication, as the FHIR writers use them."""
    return {
        "days_of_week": medication.days_of_week or [],
        "every_n_days": medication.every_n_days or 1,
        "cycle_on_days": medication.cycle_on_days,
        "cycle_off_days": medication.cycle_off_days,
        "dose_quantity": medication.dose_quantity,
        "dose_unit": medication.dose_unit or "dose",
        "taper": medication.taper or [],
    }


def _steps(medication: Medication, regimen: dict[str, Any]) -> list[tuple[datetime.date, datetime.date | None, Any]]:
    """(first day, last day or None, dose quantity) of each taper step; one step without a taper."""
    taper = sorted(regimen["taper"], key=lambda step: step["from_day"])
    if not taper:
        return [(medication.start_date, medication.end_date, regimen["dose_quantity"])]
    steps = []
    for i, step in enumerate(taper):
        first = medication.start_date + datetime.timedelta(days=step["from_day"])
        last = (
            medication.start_date + datetime.timedelta(days=taper[i + 1]["from_day"] - 1)
            if i + 1 < len(taper)
            else medication.end_date
        )
        if medication.end_date and first > medication.end_date:
            break
        if medication.end_date and last and last > medication.end_date:
            last = medication.end_date
        steps.append((first, last, step["dose_quantity"]))
    return steps


Span = tuple[datetime.date, datetime.date | None, Any]
_ONE_DAY = datetime.timedelta(days=1)


def _aligned(schedule: Regimen, spans: list[Span]) -> list[Span]:
    """Each span starting on its first dose day (the schedule counts days from the start date, so
    a taper step may begin between two doses); a span without a dose day is left out. A reader
    counting ``period`` days from ``boundsPeriod.start`` then finds the real dose days."""
    out = []
    for first, last, quantity in spans:
        day = schedule.first_dose_day(first, last)
        if day is not None:
            out.append((day, last, quantity))
    return out


def _on_phases(schedule: Regimen, spans: list[Span], end: datetime.date) -> list[Span] | None:
    """A cycle with an end date: its on-phases (runs of consecutive dose days) cut by the taper
    steps, one span each; None past ``MAX_CYCLE_DOSAGES`` of them."""
    out: list[Span] = []
    for first, last, quantity in spans:
        day, last, run = first, last or end, None
        while day <= last + _ONE_DAY:  # the day after ``last`` closes the last run
            if day <= last and schedule.is_dose_day(day):
                run = run or day
            elif run:
                out.append((run, day - _ONE_DAY, quantity))
                run = None
                if len(out) > MAX_CYCLE_DOSAGES:
                    return None
            day += _ONE_DAY
    return out


def _dosage_text(medication: Medication, regimen: dict[str, Any]) -> str:
    if medication.frequency == Frequency.INTERVAL and medication.interval_hours:
        how_often = f"every {medication.interval_hours} hours"  # the label reads "Every N hours"
    else:
        how_often = Frequency(medication.frequency).label.lower()
    parts = [medication.dosage, how_often]
    times = medication.reminder_times
    if times:
        parts.append("at " + ", ".join(times))
    if regimen["days_of_week"]:
        parts.append("on " + ", ".join(regimen["days_of_week"]))
    if regimen["every_n_days"] > 1:
        parts.append(f"every {regimen['every_n_days']} days")
    if regimen["cycle_on_days"] and regimen["cycle_off_days"]:
        parts.append(f"{regimen['cycle_on_days']} days on, {regimen['cycle_off_days']} days off")
    return "; ".join(part for part in parts if part)


def dosages(medication: Medication) -> list[dict[str, Any]]:
    """``MedicationStatement.dosage``: the regimen as FHIR R4 timing, one dosage per span of days.

    A span is a taper step (one without a taper). Within it, ``timeOfDay`` holds the local times
    of a dose day and ``frequency`` per ``period`` days says how often: ``len(times)`` per day,
    per N days for every N days (the span starting on a dose day), on the listed ``dayOfWeek``.
    R4's Timing has no element for an on/off cycle: a cycle with an end date is one dosage per
    on-phase (``boundsPeriod`` from its first to its last day; exact, up to ``MAX_CYCLE_DOSAGES``);
    an open-ended one (or a longer one) is stated as a count, ``on × len(times)`` doses per
    ``on + off`` days, which is true of every window of that many days, and the on/off pattern
    itself is in ``dosage.text`` only.
    """
    regimen = _regimen(medication)
    times = medication.reminder_times
    text = _dosage_text(medication, regimen)
    on, off = regimen["cycle_on_days"], regimen["cycle_off_days"]
    schedule = Regimen.of(medication)  # what decides the dose days, as for the sweep
    spans = _steps(medication, regimen)
    frequency, period = len(times), regimen["every_n_days"]
    if on and off:
        phases = _on_phases(schedule, spans, medication.end_date) if medication.end_date else None
        if phases is None:
            frequency, period = len(times) * on, on + off
            spans = _aligned(schedule, spans)
        else:
            spans = phases
    elif period > 1:
        spans = _aligned(schedule, spans)
    out = []
    for sequence, (first, last, quantity) in enumerate(spans, start=1):
        bounds = {"start": first.isoformat()}
        if last:
            bounds["end"] = last.isoformat()
        repeat: dict[str, Any] = {"boundsPeriod": bounds}
        if times:
            repeat.update(timeOfDay=[f"{t}:00" for t in times], frequency=frequency, period=period, periodUnit="d")
        if regimen["days_of_week"]:
            repeat["dayOfWeek"] = [day for day in WEEKDAYS if day in regimen["days_of_week"]]
        dosage: dict[str, Any] = {
            "sequence": sequence,
            "text": text,
            "timing": {"repeat": repeat},
            "doseAndRate": [{"doseQuantity": _quantity(quantity, regimen["dose_unit"])}],
        }
        if medication.frequency == Frequency.AS_NEEDED:
            dosage["asNeededBoolean"] = True
        out.append(dosage)
    return out


def _statement_status(medication: Medication, today: datetime.date) -> str:
    if not medication.is_active:
        return "stopped"
    if medication.end_date and medication.end_date < today:
        return "completed"
    if medication.start_date > today:
        return "intended"
    return "active"


def medication_statement(medication: Medication, *, subject: str, today: datetime.date) -> dict[str, Any]:
    period = {"start": medication.start_date.isoformat()}
    if medication.end_date:
        period["end"] = medication.end_date.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": f"medication-{medication.pk}",
        "identifier": [identifier("medication", medication.pk)],
        "status": _statement_status(medication, today),
        "medicationCodeableConcept": {"text": f"{medication.name} {medication.dosage}".strip()},
        "subject": {"reference": subject},
        "effectivePeriod": period,
        "dateAsserted": instant(medication.created_at),
        "dosage": dosages(medication),
    }
    if medication.notes:
        resource["note"] = [{"text": medication.notes}]
    return resource


def medication_administration(
    reminder, medication: Medication, *, subject: str, regimen: Regimen, tz: ZoneInfo
) -> dict[str, Any]:
    quantity = regimen.quantity_on(reminder.scheduled_for.astimezone(tz).date())
    return {
        "resourceType": "MedicationAdministration",
        "id": f"dose-{reminder.pk}",
        "identifier": [identifier("dose", reminder.pk)],
        "status": "completed",
        "medicationCodeableConcept": {"text": f"{medication.name} {medication.dosage}".strip()},
        "subject": {"reference": subject},
        "supportingInformation": [{"reference": full_url("medication", medication.pk)}],
        "effectiveDateTime": instant(reminder.scheduled_for),
        "dosage": {"text": medication.dosage, "dose": _quantity(quantity, medication.dose_unit or "dose")},
    }


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


def symptom_observation(row: dict[str, Any], *, subject: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"symptom-{row['id']}",
        "identifier": [identifier("symptom", row["id"])],
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": {"text": row["name"]},
        "subject": {"reference": subject},
        "effectiveDateTime": row["date"].isoformat(),
        "issued": instant(row["logged_at"]),
        "valueInteger": row["severity"],
        "referenceRange": [{"low": {"value": 1}, "high": {"value": 10}, "text": "Severity: 1 (mild) to 10 (worst)"}],
    }
    if row["notes"]:
        resource["note"] = [{"text": row["notes"]}]
    return resource


MOOD_SCALE = ", ".join(f"{level.value} {level.label}" for level in MoodLevel)


def mood_observation(mood: Mood, *, subject: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"mood-{mood.pk}",
        "identifier": [identifier("mood", mood.pk)],
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": {"text": "Mood"},
        "subject": {"reference": subject},
        "effectiveDateTime": mood.date.isoformat(),
        "issued": instant(mood.logged_at),
        "valueInteger": mood.mood,
        "referenceRange": [{"low": {"value": 1}, "high": {"value": 5}, "text": f"Mood: {MOOD_SCALE}"}],
    }
    if mood.notes:
        resource["note"] = [{"text": mood.notes}]
    return resource


def caregiver_person(caregiver: Caregiver, *, subject: str) -> dict[str, Any]:
    """A caregiver the patient named, as a ``RelatedPerson``: active while they have accepted
    (not before, not once they unsubscribed), since they accepted; the invitation status itself is
    in the JSON and CSV exports."""
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": f"caregiver-{caregiver.pk}",
        "identifier": [identifier("caregiver", caregiver.pk)],
        "active": caregiver.status == CaregiverStatus.ACCEPTED,
        "patient": {"reference": subject},
        "relationship": [{"text": "Caregiver"}],
        "name": [{"text": caregiver.name}],
        "telecom": [{"system": "email", "value": caregiver.email}],
    }
    if caregiver.accepted_at:
        resource["period"] = {"start": instant(caregiver.accepted_at)}
    return resource


# --- The bundle -------------------------------------------------------------------------------


def entries(patient: User, *, caregivers: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """(fullUrl, resource) of every entry, in bundle order. ``caregivers=False`` leaves out the
    patient's caregivers (a doctor's export: doctors never read them through the API)."""
    subject = full_url("patient", patient.pk)
    yield subject, patient_resource(patient)
    if caregivers:
        for caregiver in rows.caregivers(patient):
            yield full_url("caregiver", caregiver.pk), caregiver_person(caregiver, subject=subject)
    meds = rows.medications(patient)
    today = patient.local_today()
    for medication in meds:
        yield full_url("medication", medication.pk), medication_statement(medication, subject=subject, today=today)
    by_id = {medication.pk: (medication, Regimen.of(medication)) for medication in meds}
    tz = patient.tzinfo
    for reminder in rows.reminders(patient):
        if reminder.status == ReminderStatus.TAKEN:
            medication, regimen = by_id[reminder.medication_id]
            resource = medication_administration(reminder, medication, subject=subject, regimen=regimen, tz=tz)
            yield full_url("dose", reminder.pk), resource
    for row in rows.symptom_rows(patient):
        yield full_url("symptom", row["id"]), symptom_observation(row, subject=subject)
    for mood in rows.moods(patient):
        yield full_url("mood", mood.pk), mood_observation(mood, subject=subject)


def stream(patient: User, *, caregivers: bool = True) -> Iterator[bytes]:
    envelope = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "collection",
        "timestamp": instant(timezone.now()),
    }
    Bundle.model_validate(envelope)
    yield orjson.dumps(envelope)[:-1] + b',"entry":['
    batch: list[bytes] = []
    first = True
    validate = Validator()
    for url, resource in entries(patient, caregivers=caregivers):
        entry = b'{"fullUrl":' + orjson.dumps(url) + b',"resource":' + validate(resource) + b"}"
        if first and not batch:
            BundleEntry.model_validate_json(entry)  # the entry wrapper (the same for every entry)
        batch.append(entry)
        if len(batch) >= FLUSH_ENTRIES:
            yield (b"" if first else b",") + b",".join(batch)
            first, batch = False, []
    if batch:
        yield (b"" if first else b",") + b",".join(batch)
    yield b"]}"
