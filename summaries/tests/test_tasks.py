import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from core.mail import EmailDeliveryError
from medications.models import Reminder, ReminderStatus
from medications.tests.factories import MedicationFactory
from summaries import services, tasks
from summaries.models import DigestDelivery
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

SUNDAY = datetime.date(2026, 3, 8)


def at(local: str, zone: str) -> datetime.datetime:
    """A UTC instant given as local wall time in ``zone``."""
    naive = datetime.datetime.fromisoformat(local)
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(datetime.UTC)


@pytest.fixture
def run_inline(monkeypatch):
    """``send_weekly_digest.delay`` runs the task in-process, so a dispatch is observable."""
    monkeypatch.setattr(tasks.send_weekly_digest, "delay", lambda *args: tasks.send_weekly_digest(*args))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-03-08T08:59:00", None),
        ("2026-03-08T09:00:00", SUNDAY),
        ("2026-03-08T11:59:00", SUNDAY),
        ("2026-03-08T12:00:00", None),
        ("2026-03-07T09:30:00", None),  # Saturday
        ("2026-03-09T09:30:00", None),  # Monday
    ],
)
def test_digest_window(local, expected):
    now = datetime.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert services.digest_week_of(local_now=now) == expected


def test_due_patients_follow_their_own_time_zone(freeze_now):
    now = freeze_now(at("2026-03-08T09:05:00", "Asia/Tokyo"))  # Saturday 17:05 in London
    tokyo = PatientFactory(timezone="Asia/Tokyo", email_digest_enabled=True)
    PatientFactory(timezone="Europe/London", email_digest_enabled=True)
    PatientFactory(timezone="Asia/Tokyo", email_digest_enabled=False)
    PatientFactory(timezone="Asia/Tokyo", email_digest_enabled=True, email="")
    PatientFactory(timezone="Asia/Tokyo", email_digest_enabled=True, is_active=False)
    assert services.digest_due_patients(now=now) == [(tokyo.pk, "2026-03-08")]


def test_dispatch_twice_sends_one_email(freeze_now, run_inline):
    freeze_now(at("2026-03-08T09:10:00", "America/New_York"))
    patient = PatientFactory(timezone="America/New_York", email_digest_enabled=True)
    assert tasks.dispatch_weekly_digests() == 1
    assert tasks.dispatch_weekly_digests() == 0
    # A later tick inside the catch-up window, and a redelivered task, still send nothing more.
    freeze_now(at("2026-03-08T10:40:00", "America/New_York"))
    assert tasks.dispatch_weekly_digests() == 0
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [patient.email]
    delivery = DigestDelivery.objects.get()
    assert (delivery.patient_id, delivery.week_of, delivery.status) == (patient.pk, SUNDAY, "sent")
    assert delivery.sent_at is not None


def test_catch_up_after_downtime_and_next_week(freeze_now, run_inline):
    patient = PatientFactory(timezone="Europe/Berlin", email_digest_enabled=True)
    freeze_now(at("2026-03-08T11:30:00", "Europe/Berlin"))  # beat was down until 11:30
    assert tasks.dispatch_weekly_digests() == 1
    freeze_now(at("2026-03-15T09:00:00", "Europe/Berlin"))
    assert tasks.dispatch_weekly_digests() == 1
    weeks = DigestDelivery.objects.filter(patient=patient).order_by("week_of").values_list("week_of", flat=True)
    assert list(weeks) == [SUNDAY, datetime.date(2026, 3, 15)]
    assert len(mail.outbox) == 2


def test_digest_content_is_the_past_week_and_escaped(freeze_now):
    freeze_now(at("2026-03-08T09:00:00", "UTC"))
    patient = PatientFactory(first_name="Tom &", last_name="<Jerry", email_digest_enabled=True)
    SymptomFactory(patient=patient, name="Migraine <b>", severity=6, date=SUNDAY)
    SymptomFactory(patient=patient, name="Migraine <b>", severity=8, date=SUNDAY - datetime.timedelta(days=6))
    SymptomFactory(patient=patient, name="Old", severity=2, date=SUNDAY - datetime.timedelta(days=7))
    MoodFactory(patient=patient, mood=4, date=SUNDAY)
    MoodFactory(patient=patient, mood=1, date=SUNDAY - datetime.timedelta(days=1))
    medication = MedicationFactory(patient=patient)
    for status in (ReminderStatus.TAKEN, ReminderStatus.MISSED):
        Reminder.objects.create(
            medication=medication,
            patient=patient,
            scheduled_for=timezone.now() - datetime.timedelta(days=1 if status == "taken" else 2),
            status=status,
        )
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is True
    message = mail.outbox[0]
    text = message.body
    html = message.alternatives[0][0]
    assert "Hello Tom & <Jerry" in text
    assert "2026-03-02 to 2026-03-08" in text
    assert "Migraine <b>: 2 times, average severity 7.0/10" in text
    assert "Old" not in text
    assert "average 2.5/5 over 2 days" in text
    assert "50.0% (1 of 2 doses taken)" in text
    assert "Tom &amp; &lt;Jerry" in html and "<Jerry" not in html
    assert "Migraine &lt;b&gt;" in html and "<b>" not in html


def test_transient_failure_releases_the_claim_for_the_retry(monkeypatch, patient):
    patient.email_digest_enabled = True
    patient.save()

    def fail(**kwargs):
        raise EmailDeliveryError("SMTPServerDisconnected")

    monkeypatch.setattr(services, "send_templated_email", fail)
    with pytest.raises(services.DigestTransientError):
        tasks.send_weekly_digest(patient.pk, "2026-03-08")
    assert not DigestDelivery.objects.exists()
    monkeypatch.undo()
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is True
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is False
    assert len(mail.outbox) == 1


def test_permanent_failure_is_recorded_and_not_retried(monkeypatch, patient):
    patient.email_digest_enabled = True
    patient.save()
    calls = []

    def refuse(**kwargs):
        calls.append(kwargs["to"])
        raise EmailDeliveryError("SMTPRecipientsRefused", permanent=True)

    monkeypatch.setattr(services, "send_templated_email", refuse)
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is False
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is False
    assert len(calls) == 1
    assert DigestDelivery.objects.get().status == "failed"


def test_unsubscribed_or_unknown_patient_gets_nothing(patient):
    assert tasks.send_weekly_digest(patient.pk, "2026-03-08") is False  # digest off (the default)
    assert tasks.send_weekly_digest(999_999, "2026-03-08") is False
    assert not mail.outbox and not DigestDelivery.objects.exists()


def test_digest_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-digests"]
    assert entry["task"] == "summaries.tasks.dispatch_weekly_digests"
    assert entry["schedule"] <= services.DIGEST_CATCH_UP
