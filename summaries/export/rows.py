"""What an export contains, read in a fixed number of queries and yielded row by row.

Each kind is an iterator of plain dicts in the API's own shape (the API's serializers write
them), ordered oldest first. Whatever the number of rows, an export costs the same queries: one
per kind (iterators fetch in chunks from one cursor), plus the symptom-medication links, read in
the same order as the symptoms and merged with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import F

from accounts.models import Caregiver, DataAccessLog, User
from accounts.serializers import AccessLogSerializer, CaregiverSerializer, ProfileSerializer
from medications.models import Medication, Reminder
from medications.serializers import MedicationSerializer, ReminderSerializer
from symptoms.insights.services import latest_insight
from symptoms.models import Mood, Symptom
from symptoms.selectors import medication_links
from symptoms.serializers import BRIEF_FIELDS, MoodSerializer, SymptomSerializer, brief

CHUNK = 2000


def profile(patient: User) -> dict[str, Any]:
    return ProfileSerializer().to_representation(patient)


def medications(patient: User) -> list[Medication]:
    """The patient's medications (few: read at once, their regimens included)."""
    rows = list(Medication.objects.filter(patient=patient).order_by("start_date", "id"))
    for medication in rows:
        medication.patient = patient  # is_current needs the owner's time zone: no query per row
    return rows


def medication_rows(meds: list[Medication]) -> Iterator[dict[str, Any]]:
    writer = MedicationSerializer()
    return (writer.to_representation(medication) for medication in meds)


def reminders(patient: User) -> Iterator[Reminder]:
    return (
        Reminder.objects.filter(patient=patient)
        .annotate(medication_name=F("medication__name"))
        .order_by("scheduled_for", "id")
        .iterator(chunk_size=CHUNK)
    )


def reminder_rows(patient: User) -> Iterator[dict[str, Any]]:
    writer = ReminderSerializer()
    return (writer.to_representation(reminder) for reminder in reminders(patient))


def symptom_rows(patient: User) -> Iterator[dict[str, Any]]:
    """The API's symptom objects (``SymptomSerializer``'s values read), oldest first: the rows and
    their medication links stream from two cursors in symptom order and are merged."""
    writer = SymptomSerializer()
    at = writer.lean_columns().index("id")
    symptoms = (
        Symptom.objects.filter(patient=patient)
        .order_by("id")
        .values_list(*writer.lean_columns())
        .iterator(chunk_size=CHUNK)
    )
    links = medication_links(patient=patient, fields=BRIEF_FIELDS).iterator(chunk_size=CHUNK)
    return writer.lean_write(_merged(symptoms, links, at))


def _merged(rows: Iterator[tuple], links: Iterator[tuple], at: int) -> Iterator[tuple[tuple, list[dict[str, Any]]]]:
    """Each row with its linked medications (both in symptom id order, the id at ``rows``' index
    ``at``)."""
    link = next(links, None)
    for row in rows:
        linked = []
        while link is not None and link[0] <= row[at]:
            if link[0] == row[at]:
                linked.append(brief(link[1:]))
            link = next(links, None)
        yield row, linked


def moods(patient: User) -> Iterator[Mood]:
    return Mood.objects.filter(patient=patient).order_by("date", "id").iterator(chunk_size=CHUNK)


def mood_rows(patient: User) -> Iterator[dict[str, Any]]:
    writer = MoodSerializer()
    return (writer.to_representation(mood) for mood in moods(patient))


def access_log_rows(patient: User) -> Iterator[dict[str, Any]]:
    writer = AccessLogSerializer()
    entries = DataAccessLog.objects.filter(patient=patient).order_by("accessed_at", "id").iterator(chunk_size=CHUNK)
    return (writer.to_representation(entry) for entry in entries)


def caregivers(patient: User) -> Iterator[Caregiver]:
    """The people the patient asked to be told about missed doses (few)."""
    return Caregiver.objects.filter(patient=patient).order_by("created_at", "id").iterator(chunk_size=CHUNK)


def caregiver_rows(patient: User) -> Iterator[dict[str, Any]]:
    for caregiver in caregivers(patient):
        yield CaregiverSerializer(caregiver).data


def insight(patient: User) -> dict[str, Any] | None:
    """The latest AI insight generated for the patient (from the insight cache), if any."""
    return latest_insight(patient)


def kinds(patient: User) -> list[tuple[str, tuple[str, ...], Iterator[dict[str, Any]]]]:
    """(name, columns, rows) of every list in an export, in document order."""
    return [
        ("medications", MedicationSerializer.Meta.fields, medication_rows(medications(patient))),
        ("reminders", ReminderSerializer.Meta.fields, reminder_rows(patient)),
        ("symptoms", SymptomSerializer.Meta.fields, symptom_rows(patient)),
        ("moods", MoodSerializer.Meta.fields, mood_rows(patient)),
        ("caregivers", CaregiverSerializer.Meta.fields, caregiver_rows(patient)),
        ("access_log", AccessLogSerializer.Meta.fields, access_log_rows(patient)),
    ]
