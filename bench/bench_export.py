"""Export benchmark (`make bench-export`): a patient with 5 years of data, in each format.

Seeds PostgreSQL (a database of its own: DATABASE_URL, set by the Makefile target) with one
patient who has used MediTrack for 5 years: 3 medications taken 1, 2 and 3 times a day (10,950 doses, 80 % taken),
2,000 symptoms (a third linked to a medication), a mood a day and an access log, and a second
patient with data of their own. Then downloads `GET /api/auth/export/` as JSON, as the CSV ZIP
and as the FHIR bundle through the whole Django stack (authentication, view, streaming) and
times each one from the request to the last byte. Target: under 5 s for each format.

Exits non-zero when a target is missed. Not part of `make test`.
"""

from __future__ import annotations

import datetime
import os
import random
import resource
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # as manage.py does

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import DataAccessLog, Role, User  # noqa: E402
from medications.models import Frequency, Medication, Reminder, ReminderKind, ReminderStatus  # noqa: E402
from symptoms.models import Mood, Symptom  # noqa: E402

YEARS = 5
SYMPTOMS = 2_000
TARGET_S = 5.0
FORMATS = ("json", "csv", "fhir")
USERNAME = "bench-export-patient"
SCHEDULES = [  # (frequency, custom times, local times of day)
    (Frequency.TWICE_DAILY, [], (8, 20)),
    (Frequency.CUSTOM, ["07:15", "13:00", "21:30"], (7, 13, 21)),
    (Frequency.ONCE_DAILY, [], (8,)),
]


def log(message: str) -> None:
    print(message, flush=True)


def reset() -> None:
    """The benchmark's own database starts empty (TRUNCATE: no per-row deletion signals)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_user RESTART IDENTITY CASCADE")


def seed_patient(username: str, *, now: datetime.datetime, rng: random.Random) -> User:
    patient = User.objects.create(
        username=username,
        email=f"{username}@example.test",
        password="!",  # unusable
        role=Role.PATIENT,
        first_name="Bench",
        last_name="Patient",
        date_of_birth=datetime.date(1970, 5, 17),
    )
    days = 365 * YEARS
    start = (now - datetime.timedelta(days=days)).date()
    medications = [
        Medication.objects.create(
            patient=patient,
            name=f"Medicine {i}",
            dosage="10 mg",
            frequency=frequency,
            custom_schedule=custom,
            start_date=start,
            notes="=cmd|' /C calc'!A0" if i == 0 else "",
        )
        for i, (frequency, custom, _hours) in enumerate(SCHEDULES)
    ]
    reminders = []
    statuses = [ReminderStatus.TAKEN] * 8 + [ReminderStatus.SKIPPED, ReminderStatus.MISSED]
    for day in range(days):
        date = start + datetime.timedelta(days=day)
        for medication, (_f, _c, hours) in zip(medications, SCHEDULES, strict=True):
            for hour in hours:
                when = datetime.datetime.combine(date, datetime.time(hour), tzinfo=datetime.UTC)
                status = rng.choice(statuses)
                reminders.append(
                    Reminder(
                        medication=medication,
                        patient=patient,
                        kind=ReminderKind.SCHEDULED,
                        scheduled_for=when,
                        status=status,
                        sent_at=when,
                        responded_at=when + datetime.timedelta(minutes=12) if status != ReminderStatus.MISSED else None,
                    )
                )
    Reminder.objects.bulk_create(reminders, batch_size=5000)
    symptoms = Symptom.objects.bulk_create(
        [
            Symptom(
                patient=patient,
                name=rng.choice(["Headache", "Nausea", "Fatigue", "Dizziness", "+Rash"]),
                severity=rng.randint(1, 10),
                notes="Logged after lunch, a note of some length for realism." if i % 3 else "",
                date=start + datetime.timedelta(days=i * days // SYMPTOMS),
            )
            for i in range(SYMPTOMS)
        ],
        batch_size=5000,
    )
    through = Symptom.related_medications.through
    through.objects.bulk_create(
        [through(symptom_id=s.pk, medication_id=medications[i % 3].pk) for i, s in enumerate(symptoms) if i % 3 == 0],
        batch_size=5000,
    )
    Mood.objects.bulk_create(
        [
            Mood(patient=patient, mood=rng.randint(1, 5), date=start + datetime.timedelta(days=day))
            for day in range(days)
        ],
        batch_size=5000,
    )
    DataAccessLog.objects.bulk_create(
        [
            DataAccessLog(doctor_name="Dr Bench", patient=patient, resource="symptoms", accessed_at=now)
            for _ in range(200)
        ]
    )
    return patient


def main() -> int:
    call_command("migrate", verbosity=0, interactive=False)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "1000/h"}
    now = timezone.now()
    rng = random.Random(13)
    started = time.perf_counter()
    reset()
    patient = seed_patient(USERNAME, now=now, rng=rng)
    seed_patient(f"{USERNAME}-other", now=now, rng=rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    doses = Reminder.objects.filter(patient=patient).count()
    taken = Reminder.objects.filter(patient=patient, status=ReminderStatus.TAKEN).count()
    log(
        f"seeded in {time.perf_counter() - started:.1f} s: {doses} doses ({taken} taken), "
        f"{Symptom.objects.filter(patient=patient).count()} symptoms, {Mood.objects.filter(patient=patient).count()} moods"
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(patient)}")
    # A running server has loaded its URLs and apps: one request before measuring.
    assert client.get("/api/auth/profile/").status_code == 200
    failed = False
    for fmt in FORMATS:
        runs = []
        for _ in range(2):  # cold (the format's first export) and warm; both must pass
            begin = time.perf_counter()
            response = client.get(f"/api/auth/export/?format={fmt}")
            size = sum(len(chunk) for chunk in response.streaming_content)
            runs.append(time.perf_counter() - begin)
            assert response.status_code == 200, response.status_code
        worst = max(runs)
        ok = worst < TARGET_S
        failed = failed or not ok
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log(
            f"export {fmt:4}: {runs[0]:5.2f} s cold, {runs[1]:5.2f} s warm, {size / 1e6:5.1f} MB (target < {TARGET_S:.0f} s) "
            f"{'OK' if ok else 'MISSED'}; peak RSS so far {rss:.0f} MB"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
