"""Fault injection: the SMTP server is down when a reminder is due, then comes back.

A real SMTP server (aiosmtpd) on a fixed local port, Django's SMTP backend pointed at it. While
it is down the sweep hands the reminder to the retry task, which raises (Celery backs off and
retries); when the server is back the next retry delivers it, exactly once, whatever else runs
(another sweep, a redelivered copy of the retry message). When it never comes back, the last
try marks the reminder ``failed``. Tasks run in this process, as in the other task tests.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from core.mail import EmailDeliveryError
from core.tests.servers import SmtpServer, due_now, free_port
from medications.models import Reminder, ReminderStatus
from medications.services.sweep import sweep
from medications.tasks import retry_reminder_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    """A local SMTP server, not started: the test decides when it is up."""
    server = SmtpServer(port=free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    yield server
    server.stop()


def test_the_retry_task_backs_off_exponentially_up_to_a_last_try():
    assert EmailDeliveryError in retry_reminder_email.autoretry_for
    assert retry_reminder_email.retry_backoff and retry_reminder_email.retry_jitter
    assert retry_reminder_email.max_retries == 5


def test_smtp_down_then_back_delivers_the_reminder_exactly_once(smtp):
    patient = PatientFactory(timezone="UTC", email="smtp-fault@example.test")
    due_now(patient, minutes_ago=3)
    queued: list[tuple[int, str]] = []

    # SMTP down: the sweep claims the dose, fails to connect and hands it to the retry task.
    result = sweep(now=timezone.now(), on_transient=lambda reminder_id, claim: queued.append((reminder_id, str(claim))))
    assert (result.sent, result.retrying, result.failed) == (0, 1, 0)
    reminder = Reminder.objects.get(patient=patient)
    assert queued == [(reminder.pk, str(reminder.claim))]
    assert (reminder.status, reminder.sent_at, reminder.attempts) == (ReminderStatus.PENDING, None, 1)
    reminder_id, claim = queued[0]

    # First retry, still down: the task raises, so Celery schedules the next one.
    with pytest.raises(EmailDeliveryError):
        retry_reminder_email(reminder_id, claim)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 2)
    # A sweep meanwhile leaves the claimed dose to its retry task.
    assert sweep(now=timezone.now(), on_transient=lambda *_: queued.append(_)).retrying == 0
    assert len(queued) == 1

    # The server is back: the next retry (Celery's retry number 1) delivers it.
    smtp.start()
    assert retry_reminder_email.apply(args=(reminder_id, claim), retries=1, throw=True).get() == "sent"
    assert smtp.inbox.recipients() == ["smtp-fault@example.test"]
    _rcpts, message = smtp.inbox.messages[0]
    assert message["Subject"].startswith("Reminder: Metformin 500 mg at ")
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT and reminder.sent_at is not None

    # A redelivered copy of either retry message, and later sweeps, send nothing more.
    assert retry_reminder_email.apply(args=(reminder_id, claim), retries=1, throw=True).get() == "noop"
    assert retry_reminder_email(reminder_id, claim) == "noop"
    assert sweep(now=timezone.now(), on_transient=lambda *_: queued.append(_)).sent == 0
    assert smtp.inbox.recipients() == ["smtp-fault@example.test"]


def test_smtp_down_for_every_try_marks_the_reminder_failed(smtp):
    patient = PatientFactory(timezone="UTC", email="smtp-gone@example.test")
    due_now(patient, minutes_ago=3)
    queued: list[tuple[int, str]] = []
    sweep(now=timezone.now(), on_transient=lambda reminder_id, claim: queued.append((reminder_id, str(claim))))
    [(reminder_id, claim)] = queued

    # Eager apply runs Celery's whole retry chain at once (no countdown): every try fails.
    assert retry_reminder_email.apply(args=(reminder_id, claim)).get() == "failed"
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.attempts == 1 + retry_reminder_email.max_retries + 1  # the sweep's try + every retry

    # The server returns too late for it: nothing is sent for a failed reminder.
    smtp.start()
    assert sweep(now=timezone.now(), on_transient=lambda *_: None).sent == 0
    assert smtp.inbox.recipients() == []
