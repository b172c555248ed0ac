"""The benchmark's dataset: 1,000 patients, and one measured patient with a heavy, realistic history.

Rows are built with the models directly and written with ``bulk_create`` (a few seconds on
PostgreSQL). Everything is relative to "now" in each patient's own time zone and comes from a
seeded random generator, so two runs measure the same shape of data.

When a model gains fields, update ``_medication`` (or the matching builder) and nothing else.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from medications.models import Frequency, Medication, Reminder, ReminderKind, ReminderStatus
from symptoms.models import Mood, Symptom

BATCH = 2000
MEASURED_USERNAME = "bench-patient"
MEASURED_TIMEZONE = "Europe/Berlin"
OTHER_TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")

DRUGS = (
    ("Metformin", "500 mg"),
    ("Lisinopril", "10 mg"),
    ("Atorvastatin", "20 mg"),
    ("Levothyroxine", "50 mcg"),
    ("Amlodipine", "5 mg"),
    ("Omeprazole", "20 mg"),
    ("Sertraline", "50 mg"),
    ("Ibuprofen", "400 mg"),
    ("Paracetamol", "500 mg"),
    ("Vitamin D3", "1000 IU"),
    ("Metoprolol", "25 mg"),
    ("Losartan", "50 mg"),
    ("Gabapentin", "300 mg"),
    ("Cetirizine", "10 mg"),
    ("Prednisone", "5 mg"),
    ("Furosemide", "40 mg"),
    ("Magnesium", "250 mg"),
    ("Melatonin", "3 mg"),
    ("Folic acid", "400 mcg"),
    ("Salbutamol inhaler", "100 mcg"),
)
# (frequency, custom schedule): the mix a long medication list has.
SCHEDULES: tuple[tuple[str, list[str]], ...] = (
    (Frequency.ONCE_DAILY, []),
    (Frequency.TWICE_DAILY, []),
    (Frequency.ONCE_DAILY, []),
    (Frequency.THREE_TIMES_DAILY, []),
    (Frequency.AS_NEEDED, []),
    (Frequency.CUSTOM, ["07:30", "12:30", "18:30", "22:00"]),
    (Frequency.TWICE_DAILY, []),
    (Frequency.CUSTOM, ["21:00"]),
)
SYMPTOMS = (
    ("Headache", 5),
    ("Nausea", 4),
    ("Fatigue", 5),
    ("Dizziness", 4),
    ("Back pain", 6),
    ("Insomnia", 5),
    ("Joint pain", 6),
    ("Heartburn", 3),
    ("Anxiety", 5),
    ("Cough", 3),
    ("Shortness of breath", 6),
    ("Muscle cramps", 4),
)
NOTES = ("", "", "", "After lunch.", "Woke up with it.", "Better after resting.", "Worse in the evening.")


@dataclass(frozen=True)
class Dataset:
    """The sizes the issue asks for; tests pass small ones."""

    patients: int = 1000  # the measured patient included
    medications: int = 50
    symptoms: int = 1000
    symptom_days: int = 60
    moods: int = 60
    reminder_days: int = 90
    # Background volume for each of the other patients.
    other_medications: int = 3
    other_symptoms: int = 20
    other_moods: int = 10
    other_reminder_days: int = 14


@dataclass
class Seeded:
    patient_id: int
    doctor_id: int
    medication_id: int  # one of the measured patient's current medications (the detail endpoint)
    symptom_id: int  # the measured patient's most recent symptom
    counts: dict[str, int] = field(default_factory=dict)


def _medication(*, patient: User, index: int, today: datetime.date, rng: random.Random) -> Medication:
    """One medication row. The only place that knows the Medication model's fields."""
    drug, dosage = DRUGS[index % len(DRUGS)]
    name = drug if index < len(DRUGS) else f"{drug} ({index // len(DRUGS) + 1})"
    frequency, custom = SCHEDULES[index % len(SCHEDULES)]
    start = today - datetime.timedelta(days=rng.randint(10, 200))
    end = None
    if index % 5 == 4:  # a finished course
        end = min(today - datetime.timedelta(days=1), start + datetime.timedelta(days=rng.randint(14, 90)))
    elif index % 7 == 3:  # a course that ends soon
        end = today + datetime.timedelta(days=rng.randint(1, 30))
    return Medication(
        patient=patient,
        name=name,
        dosage=dosage,
        frequency=frequency,
        custom_schedule=list(custom),
        start_date=start,
        end_date=end,
        notes="Take with food." if index % 3 == 0 else "",
        is_active=index % 9 != 8,
    )


def _local_times(medication: Medication) -> list[datetime.time]:
    return [datetime.time.fromisoformat(value) for value in medication.reminder_times]


def _reminders(
    *, patient: User, medications: Sequence[Medication], days: int, now: datetime.datetime, rng: random.Random
) -> Iterator[Reminder]:
    """The doses the reminder sweep would have created over the last ``days`` local days, with
    the answers a mostly adherent patient gives; as-needed medications get logged doses."""
    tz = ZoneInfo(patient.timezone)
    today = now.astimezone(tz).date()
    first = today - datetime.timedelta(days=days - 1)
    for medication in medications:
        start = max(first, medication.start_date)
        end = min(today, medication.end_date or today)
        day = start
        while day <= end:
            if medication.frequency == Frequency.AS_NEEDED:
                if rng.random() < 0.3:
                    at = datetime.datetime.combine(day, datetime.time(rng.randint(9, 21), 15), tzinfo=tz)
                    if at <= now:
                        yield Reminder(
                            medication=medication,
                            patient=patient,
                            kind=ReminderKind.LOGGED,
                            scheduled_for=at,
                            status=ReminderStatus.TAKEN,
                            responded_at=at,
                        )
            else:
                for local_time in _local_times(medication):
                    at = datetime.datetime.combine(day, local_time, tzinfo=tz)
                    if at > now:  # the sweep has not reached it yet
                        continue
                    yield _scheduled_dose(medication=medication, patient=patient, at=at, now=now, rng=rng)
            day += datetime.timedelta(days=1)


def _scheduled_dose(
    *, medication: Medication, patient: User, at: datetime.datetime, now: datetime.datetime, rng: random.Random
) -> Reminder:
    sent_at = at + datetime.timedelta(minutes=rng.randint(0, 4))
    if now - at < datetime.timedelta(hours=4):
        status, responded_at = ReminderStatus.SENT, None
    else:
        roll = rng.random()
        if roll < 0.80:
            status = ReminderStatus.TAKEN
        elif roll < 0.92:
            status = ReminderStatus.MISSED
        else:
            status = ReminderStatus.SKIPPED
        responded_at = None if status == ReminderStatus.MISSED else at + datetime.timedelta(minutes=rng.randint(1, 90))
    return Reminder(
        medication=medication,
        patient=patient,
        kind=ReminderKind.SCHEDULED,
        scheduled_for=at,
        status=status,
        sent_at=sent_at,
        responded_at=responded_at,
    )


def _symptoms(
    *, patient: User, count: int, days: int, today: datetime.date, rng: random.Random
) -> list[tuple[Symptom, int]]:
    """``count`` symptoms spread over the last ``days`` days, each with how many medications to link."""
    rows = []
    for index in range(count):
        name, base = SYMPTOMS[rng.randrange(len(SYMPTOMS)) if index % 4 else index % 3]
        severity = max(1, min(10, base + rng.randint(-3, 3)))
        date = today - datetime.timedelta(days=index * days // max(count, 1))
        links = rng.choice((0, 1, 1, 2))
        rows.append((Symptom(patient=patient, name=name, severity=severity, notes=rng.choice(NOTES), date=date), links))
    return rows


def _moods(*, patient: User, count: int, today: datetime.date, rng: random.Random) -> list[Mood]:
    return [
        Mood(
            patient=patient,
            mood=rng.choice((2, 3, 3, 4, 4, 4, 5)),
            notes=rng.choice(NOTES),
            date=today - datetime.timedelta(days=offset),
        )
        for offset in range(count)
    ]


def _users(dataset: Dataset, password: str) -> tuple[User, User, list[User]]:
    doctor = User(
        username="bench-doctor",
        email="bench-doctor@example.test",
        first_name="Dana",
        last_name="Bench",
        role=Role.DOCTOR,
        is_verified_doctor=True,
        password=password,
    )
    doctor.save()
    measured = User(
        username=MEASURED_USERNAME,
        email=f"{MEASURED_USERNAME}@example.test",
        first_name="Morgan",
        last_name="Bench",
        role=Role.PATIENT,
        timezone=MEASURED_TIMEZONE,
        phone="+49 30 1234567",
        date_of_birth=datetime.date(1968, 5, 17),
        assigned_doctor=doctor,
        email_digest_enabled=True,
        password=password,
    )
    others = [
        User(
            username=f"bench-p{number:04d}",
            email=f"bench-p{number:04d}@example.test",
            first_name="Patient",
            last_name=f"{number:04d}",
            role=Role.PATIENT,
            timezone=OTHER_TIMEZONES[number % len(OTHER_TIMEZONES)],
            assigned_doctor=doctor if number % 10 == 0 else None,
            password=password,
        )
        for number in range(1, dataset.patients)
    ]
    created = User.objects.bulk_create([measured, *others], batch_size=BATCH)
    return doctor, created[0], created[1:]


@transaction.atomic
def seed(dataset: Dataset | None = None, *, now: datetime.datetime | None = None, rng_seed: int = 7) -> Seeded:
    """Write the dataset into an empty database (``manage.py flush`` first) and describe it."""
    dataset = dataset or Dataset()
    now = now or timezone.now()
    rng = random.Random(rng_seed)
    password = make_password(None)  # unusable: the benchmark authenticates with a minted JWT
    doctor, measured, others = _users(dataset, password)
    everyone = [(measured, dataset.medications), *((patient, dataset.other_medications) for patient in others)]

    medications_of: dict[int, list[Medication]] = {}
    pending: list[Medication] = []
    for patient, count in everyone:
        today = now.astimezone(ZoneInfo(patient.timezone)).date()
        rows = [_medication(patient=patient, index=index, today=today, rng=rng) for index in range(count)]
        medications_of[patient.pk] = rows
        pending.extend(rows)
    Medication.objects.bulk_create(pending, batch_size=BATCH)

    reminders: list[Reminder] = []
    symptoms: list[tuple[Symptom, int]] = []
    moods: list[Mood] = []
    for patient, _ in everyone:
        is_measured = patient.pk == measured.pk
        today = now.astimezone(ZoneInfo(patient.timezone)).date()
        reminders.extend(
            _reminders(
                patient=patient,
                medications=medications_of[patient.pk],
                days=dataset.reminder_days if is_measured else dataset.other_reminder_days,
                now=now,
                rng=rng,
            )
        )
        symptoms.extend(
            _symptoms(
                patient=patient,
                count=dataset.symptoms if is_measured else dataset.other_symptoms,
                days=dataset.symptom_days if is_measured else 30,
                today=today,
                rng=rng,
            )
        )
        moods.extend(
            _moods(patient=patient, count=dataset.moods if is_measured else dataset.other_moods, today=today, rng=rng)
        )
    Reminder.objects.bulk_create(reminders, batch_size=BATCH)
    Symptom.objects.bulk_create([symptom for symptom, _ in symptoms], batch_size=BATCH)
    Mood.objects.bulk_create(moods, batch_size=BATCH)

    links = []
    Link = Symptom.related_medications.through
    for symptom, count in symptoms:
        candidates = medications_of[symptom.patient_id]
        for medication in rng.sample(candidates, min(count, len(candidates))):
            links.append(Link(symptom_id=symptom.pk, medication_id=medication.pk))
    Link.objects.bulk_create(links, batch_size=BATCH)

    measured_today = now.astimezone(ZoneInfo(measured.timezone)).date()
    current = [
        medication
        for medication in medications_of[measured.pk]
        if medication.is_active
        and medication.start_date <= measured_today
        and (medication.end_date is None or medication.end_date >= measured_today)
    ]
    latest_symptom = Symptom.objects.filter(patient=measured).order_by("-date", "-logged_at", "-id").first()
    return Seeded(
        patient_id=measured.pk,
        doctor_id=doctor.pk,
        medication_id=current[0].pk,
        symptom_id=latest_symptom.pk,
        counts={
            "patients": 1 + len(others),
            "medications": len(pending),
            "reminders": len(reminders),
            "symptoms": len(symptoms),
            "symptom_medication_links": len(links),
            "moods": len(moods),
            "measured_medications": len(medications_of[measured.pk]),
            "measured_reminders": sum(1 for reminder in reminders if reminder.patient_id == measured.pk),
            "measured_symptoms": sum(1 for symptom, _ in symptoms if symptom.patient_id == measured.pk),
            "measured_moods": sum(1 for mood in moods if mood.patient_id == measured.pk),
        },
    )
