"""Reminder-engine benchmark (`make bench-reminders`).

Seeds PostgreSQL (a database of its own: DATABASE_URL, set by the Makefile target) with 20,000
patients in mixed time zones and 100,000 active medications (a third of them with a regimen:
weekly, every N days, an on/off cycle or every N hours), then measures:

1. one sweep with nothing due (target < 0.5 s);
2. one sweep with ~10,000 doses due, emailed over SMTP to a local sink (aiosmtpd in its own
   process), and the emails per second end to end (target >= 300/s).

Exits non-zero when a target is missed. Not part of `make test`.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import socket
import statistics
import subprocess
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
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from medications.models import Frequency, Medication, Reminder  # noqa: E402
from medications.services import compute_next_dose, sweep  # noqa: E402

PATIENTS = 20_000
MEDICATIONS = 100_000
DUE = 10_000
NOTHING_DUE_TARGET_S = 0.5
EMAILS_PER_SECOND_TARGET = 300
ZONES = [
    "UTC", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "Africa/Lagos", "Pacific/Auckland",
]  # fmt: skip
FREQUENCIES = [Frequency.ONCE_DAILY, Frequency.TWICE_DAILY, Frequency.THREE_TIMES_DAILY, Frequency.CUSTOM]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def regimen(i: int, rng: random.Random) -> dict:
    """A third of the medications: weekly, every N days, an on/off cycle, or every N hours."""
    if i % 3:
        return {}
    kind = (i // 3) % 4
    if kind == 0:
        return {"days_of_week": [day for day in WEEKDAYS if day in rng.sample(WEEKDAYS, rng.randint(1, 3))]}
    if kind == 1:
        return {"every_n_days": rng.randint(2, 7)}
    if kind == 2:
        return rng.choice([{"cycle_on_days": 21, "cycle_off_days": 7}, {"cycle_on_days": 5, "cycle_off_days": 2}])
    return {
        "frequency": Frequency.INTERVAL,
        "custom_schedule": [],
        "interval_hours": rng.choice([4, 6, 8, 12]),
        "interval_start": datetime.time(rng.choice([6, 7, 8]), 0),
        "interval_end": datetime.time(22, 0),
    }


def log(message: str) -> None:
    print(message, flush=True)


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE medications_reminder, medications_medication, accounts_user RESTART IDENTITY CASCADE")


def seed(now: datetime.datetime) -> None:
    rng = random.Random(42)
    users = [
        User(
            username=f"bench-{i}",
            email=f"bench-{i}@example.test",
            password="!",  # unusable
            role=Role.PATIENT,
            timezone=ZONES[i % len(ZONES)],
        )
        for i in range(PATIENTS)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    users = list(User.objects.filter(username__startswith="bench-").order_by("id"))
    today = now.date()
    batch: list[Medication] = []
    for i in range(MEDICATIONS):
        patient = users[i % PATIENTS]
        frequency = FREQUENCIES[i % len(FREQUENCIES)]
        schedule = []
        if frequency == Frequency.CUSTOM:
            schedule = sorted(
                {f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 5):02d}" for _ in range(rng.randint(1, 4))}
            )
        fields = {
            "patient": patient,
            "name": f"Medicine {i}",
            "dosage": f"{rng.choice([5, 10, 20, 50, 100, 500])} mg",
            "frequency": frequency,
            "custom_schedule": schedule,
            "start_date": today - datetime.timedelta(days=rng.randrange(1, 60)),
            "is_active": True,
        }
        medication = Medication(**{**fields, **regimen(i, rng)})
        medication.next_dose_at = compute_next_dose(medication, patient=patient, after=now)
        batch.append(medication)
        if len(batch) == 5000:
            Medication.objects.bulk_create(batch)
            batch = []
    if batch:
        Medication.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "bench" / "smtp_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP sink did not start")
    return process, port


def stop_sink(process: subprocess.Popen) -> int:
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return int(output.strip().splitlines()[-1])


def no_retry(reminder_id: int, claim) -> None:
    raise SystemExit(f"unexpected SMTP failure for reminder {reminder_id}")


def main() -> int:
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark needs PostgreSQL: set DATABASE_URL (make bench-reminders does).")
    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now().replace(microsecond=0)
    log(f"seeding {PATIENTS:,} patients and {MEDICATIONS:,} medications in {len(ZONES)} time zones ...")
    started = time.perf_counter()
    reset()
    seed(now)
    log(f"  seeded in {time.perf_counter() - started:.1f} s")

    # 1. Nothing due: every next dose is after `now`.
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = sweep(now=now, on_transient=no_retry)
        timings.append(time.perf_counter() - started)
        assert result.created == 0 and result.sent == 0, result
    nothing_due = statistics.median(timings)
    log(f"sweep, nothing due: median {nothing_due * 1000:.1f} ms (max {max(timings) * 1000:.1f} ms) over 5 runs")

    # 2. DUE doses due a minute ago, emailed to a local SMTP sink.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE medications_medication SET next_dose_at = %s WHERE id IN "
            "(SELECT id FROM medications_medication ORDER BY random() LIMIT %s)",
            [now - datetime.timedelta(minutes=1), DUE],
        )
    sink, port = start_sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        started = time.perf_counter()
        result = sweep(now=now, on_transient=no_retry)
        elapsed = time.perf_counter() - started
    finally:
        received = stop_sink(sink)
    rows = Reminder.objects.count()
    rate = result.sent / elapsed if elapsed else 0.0
    log(
        f"sweep, {rows:,} doses due: {elapsed:.2f} s; {result.sent:,} emails sent, {received:,} received "
        f"by the sink; {rate:,.0f} emails/s end to end"
    )
    again = sweep(now=now, on_transient=no_retry)
    log(f"replay of the same sweep: {again.sent} emails (must be 0)")

    with_regimen = Medication.objects.filter(
        Q(days_of_week__isnull=False)
        | Q(every_n_days__gt=1)
        | Q(cycle_on_days__isnull=False)
        | Q(frequency=Frequency.INTERVAL)
    ).count()
    figures = {
        "patients": PATIENTS,
        "medications": MEDICATIONS,
        "medications_with_a_regimen": with_regimen,
        "nothing_due_median_s": round(nothing_due, 4),
        "due_doses": rows,
        "due_sweep_s": round(elapsed, 2),
        "emails_sent": result.sent,
        "emails_received": received,
        "emails_per_second": round(rate, 1),
    }
    out = BASE_DIR / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "reminders.json").write_text(json.dumps(figures, indent=2))
    log(json.dumps(figures))

    failures = []
    if nothing_due >= NOTHING_DUE_TARGET_S:
        failures.append(f"nothing-due sweep {nothing_due:.3f} s >= {NOTHING_DUE_TARGET_S} s")
    if rate < EMAILS_PER_SECOND_TARGET:
        failures.append(f"{rate:.0f} emails/s < {EMAILS_PER_SECOND_TARGET}")
    if received != result.sent or result.sent != rows or again.sent != 0:
        failures.append(f"sent {result.sent}, received {received}, due {rows}, replay {again.sent}")
    for failure in failures:
        log(f"TARGET MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
