"""Integration: PostgreSQL, Redis, a real `celery worker` process and a local SMTP server.

Skipped in a plain run (SQLite: another process cannot see the in-memory test database); a
failure under CI (MEDITRACK_REQUIRE_SERVICES=1).
"""

import datetime
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from conftest import skip_or_fail
from core.tests.servers import Inbox, database_url, due_now, free_port, start_worker, stop_process, wait_for
from medications.models import Reminder, ReminderStatus
from medications.services.sweep import sweep

pytestmark = pytest.mark.integration
BASE_DIR = Path(settings.BASE_DIR)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL): a worker process cannot see an in-memory SQLite test database")


def require_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        skip_or_fail("needs REDIS_URL (the Celery broker)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at REDIS_URL is unreachable: {exc}")
    return url


@pytest.fixture
def smtp_inbox():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_worker_on_redis_sends_one_email_per_due_dose(transactional_db, smtp_inbox):
    require_postgres()
    redis_url = require_redis()
    inbox, port = smtp_inbox
    patients = [
        PatientFactory(timezone="UTC", email="utc@example.test"),
        PatientFactory(timezone="Asia/Kolkata", email="kolkata@example.test"),
        PatientFactory(timezone="America/New_York", email="ny@example.test"),
    ]
    quiet = PatientFactory(email="quiet@example.test", email_reminders_enabled=False)
    for patient in [*patients, quiet]:
        due_now(patient)

    queue = f"it-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
    }
    worker = start_worker(queue=queue, env=env)
    try:
        from medications.tasks import send_due_reminders

        send_due_reminders.apply_async(queue=queue)
        expected = ["kolkata@example.test", "ny@example.test", "utc@example.test"]
        assert wait_for(lambda: len(inbox.recipients()) >= 3, timeout=60), "the worker sent nothing in 60 s"
        time.sleep(1.0)
        assert inbox.recipients() == expected
        subjects = [msg["Subject"] for _rcpts, msg in inbox.messages]
        assert all(subject.startswith("Reminder: Metformin 500 mg at ") for subject in subjects)
        assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3
        assert Reminder.objects.get(patient=quiet).status == ReminderStatus.PENDING

        # A second and a third sweep (a retried task, a second beat): nothing more.
        send_due_reminders.apply_async(queue=queue)
        send_due_reminders.apply_async(queue=queue)
        import redis

        broker = redis.Redis.from_url(redis_url)
        assert wait_for(lambda: broker.llen(queue) == 0, timeout=30)
        time.sleep(2.0)
        assert inbox.recipients() == expected
        assert Reminder.objects.count() == 4
    finally:
        print(stop_process(worker, timeout=20))


def race(work, *, threads: int = 2) -> list:
    """Run ``work()`` in ``threads`` threads released at once (each on its own database
    connection); return their results, failing on any exception."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    results = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001 (surfaced by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_two_sweeps_racing_email_each_dose_once(transactional_db, settings):
    require_postgres()
    settings.EMAIL_BACKEND = "medications.tests.backends.SlowBackend"
    mail.outbox = []
    patients = [PatientFactory(email=f"race{i}@example.test", timezone="Europe/London") for i in range(40)]
    for patient in patients:
        due_now(patient)
    now = timezone.now()
    results = race(lambda: sweep(now=now, on_transient=lambda *_: None))
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted(patient.email for patient in patients)  # each exactly once
    assert sum(result.sent for result in results) == 40
    assert Reminder.objects.count() == 40
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 40


def test_two_sweeps_racing_send_each_follow_up_once(transactional_db, settings):
    """Remind again: the follow-up is claimed like the first email (conditional UPDATE), so two
    concurrent sweeps on PostgreSQL send exactly one follow-up per unanswered dose."""
    require_postgres()
    settings.EMAIL_BACKEND = "medications.tests.backends.SlowBackend"
    mail.outbox = []
    patients = [
        PatientFactory(email=f"again{i}@example.test", timezone="Asia/Kolkata", remind_again_minutes=10)
        for i in range(40)
    ]
    for patient in patients:
        due_now(patient)
    now = timezone.now()
    assert sweep(now=now, on_transient=lambda *_: None).sent == 40
    mail.outbox = []
    later = now + datetime.timedelta(minutes=11)
    results = race(lambda: sweep(now=later, on_transient=lambda *_: None))
    assert all(message.subject.startswith("Still to take: ") for message in mail.outbox)
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted(patient.email for patient in patients)  # each exactly once
    assert sum(result.followed_up for result in results) == 40
    assert Reminder.objects.filter(followup_sent_at=later).count() == 40


def test_concurrent_answers_never_lose_or_double_a_decrement(transactional_db):
    """Stock moves by conditional UPDATEs with F(): 16 doses of one medication answered "taken"
    at once take off exactly 16, the same dose answered twice at once takes off once, and
    concurrent corrections put back once."""
    require_postgres()
    from decimal import Decimal

    from medications import services
    from medications.models import Medication
    from medications.tests.factories import ReminderFactory

    patient = PatientFactory(timezone="UTC")
    medication = due_now(patient)
    Medication.objects.filter(pk=medication.pk).update(stock_quantity=Decimal(100))
    now = timezone.now()
    doses = [
        ReminderFactory(medication=medication, scheduled_for=now - datetime.timedelta(hours=1, minutes=i))
        for i in range(16)
    ]
    pending = iter(doses)
    lock = threading.Lock()

    def answer_next() -> None:
        with lock:
            reminder = next(pending)
        services.reminder_answer(reminder=Reminder.objects.get(pk=reminder.pk), status=ReminderStatus.TAKEN)

    race(answer_next, threads=16)
    medication.refresh_from_db()
    assert medication.stock_quantity == Decimal(84)

    same = doses[0].pk
    race(lambda: services.reminder_answer(reminder=Reminder.objects.get(pk=same), status=ReminderStatus.SKIPPED))
    medication.refresh_from_db()
    assert medication.stock_quantity == Decimal(85)  # put back once
    fresh = ReminderFactory(medication=medication, scheduled_for=now - datetime.timedelta(hours=3))
    race(lambda: services.reminder_answer(reminder=Reminder.objects.get(pk=fresh.pk), status=ReminderStatus.TAKEN))
    medication.refresh_from_db()
    assert medication.stock_quantity == Decimal(84)  # taken off once
