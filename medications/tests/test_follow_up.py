"""Remind again: exactly one follow-up email per unanswered sent dose (profile remind_again_minutes)."""

import datetime

import pytest
from django.core import mail

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications import services
from medications.models import Frequency, Reminder, ReminderStatus
from medications.services.sweep import sweep

UTC = datetime.UTC
pytestmark = pytest.mark.django_db
DUE = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "medications.tests.backends.ScriptedBackend"
    settings.PUBLIC_URL = "https://meditrack.example"


def no_retry(reminder_id, claim):  # pragma: no cover - a test fails if it is called
    raise AssertionError(f"unexpected retry of {reminder_id}")


def at(minutes: int):
    return sweep(now=DUE + minutes * MINUTE, on_transient=no_retry)


@pytest.fixture
def patient():
    return PatientFactory(timezone="Asia/Kolkata", email="pat@example.test", remind_again_minutes=30)


@pytest.fixture
def dose(patient):
    services.medication_create(
        patient=patient,
        data={
            "name": "Metformin",
            "dosage": "500 mg",
            "frequency": Frequency.CUSTOM,
            "custom_schedule": ["13:30"],  # 08:00 UTC
            "start_date": datetime.date(2026, 5, 1),
        },
        now=DUE - datetime.timedelta(hours=1),
    )
    at(0)
    assert len(mail.outbox) == 1
    return Reminder.objects.get()


def subjects():
    return [message.subject for message in mail.outbox]


def test_one_follow_up_after_the_minutes(dose):
    assert at(29).followed_up == 0
    result = at(30)
    assert result.followed_up == 1
    assert subjects() == ["Reminder: Metformin 500 mg at 13:30", "Still to take: Metformin 500 mg at 13:30"]
    body = mail.outbox[1].body
    assert "This dose is not recorded yet." in body
    assert body.index("/reminders/confirm/") < body.index("/reminders/snooze/")
    for minutes in (30, 31, 60, 120, 239):  # replays and later ticks: never a second one
        at(minutes)
    assert len(mail.outbox) == 2
    dose.refresh_from_db()
    assert dose.status == ReminderStatus.SENT and dose.followup_sent_at == DUE + 30 * MINUTE


def test_no_follow_up_once_answered(dose):
    services.reminder_answer(reminder=dose, status=ReminderStatus.SKIPPED, now=DUE + 10 * MINUTE)
    at(45)
    assert len(mail.outbox) == 1


def test_no_follow_up_when_off(dose, patient):
    patient.remind_again_minutes = None
    patient.save()
    at(60)
    at(120)
    assert len(mail.outbox) == 1


def test_no_follow_up_after_the_dose_is_missed(patient, dose):
    patient.remind_again_minutes = 240
    patient.save()
    at(4 * 60 + 1)  # missed at 4 h: the follow-up would be due in the same sweep
    dose.refresh_from_db()
    assert dose.status == ReminderStatus.MISSED
    assert len(mail.outbox) == 1


def test_a_pending_snooze_holds_the_follow_up_which_counts_from_the_snooze_email(dose):
    services.reminder_snooze(reminder=dose, minutes=60, now=DUE + 5 * MINUTE)
    at(30)
    assert len(mail.outbox) == 1  # snoozed until 09:05 UTC: no follow-up before
    assert at(65).snoozed == 1  # the snooze email
    at(90)
    assert len(mail.outbox) == 2  # 25 minutes after the snooze email: not yet
    assert at(95).followed_up == 1
    assert subjects()[1:] == ["Snoozed reminder: Metformin 500 mg at 13:30", "Still to take: Metformin 500 mg at 13:30"]


def test_transient_failure_gives_the_follow_up_back(dose, patient):
    patient.email = "flaky@example.test"
    patient.save()
    assert at(30).followed_up == 0
    dose.refresh_from_db()
    assert dose.followup_sent_at is None
    patient.email = "pat@example.test"
    patient.save()
    assert at(35).followed_up == 1


def test_a_changed_setting_applies_to_open_doses(dose, patient):
    patient.remind_again_minutes = 90
    patient.save()
    assert at(60).followed_up == 0
    assert at(90).followed_up == 1


# --- The profile setting over HTTP -----------------------------------------------------------


@pytest.mark.parametrize(("value", "status"), [(10, 200), (240, 200), (None, 200), (9, 400), (241, 400), ("x", 400)])
def test_profile_remind_again_minutes_bounds(value, status):
    user = PatientFactory()
    response = client_for(user).patch("/api/auth/profile/", {"remind_again_minutes": value}, format="json")
    assert response.status_code == status, response.json()
    if status == 200:
        assert response.json()["remind_again_minutes"] == value
    else:
        assert "remind_again_minutes" in response.json()


def test_profile_default_is_off():
    assert client_for(PatientFactory()).get("/api/auth/profile/").json()["remind_again_minutes"] is None
