"""Snooze: the API route, the emailed link, and one more email at the snooze time."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications import services
from medications.models import Frequency, Reminder, ReminderStatus
from medications.services.sweep import sweep
from medications.tests.factories import MedicationFactory, ReminderFactory

UTC = datetime.UTC
pytestmark = pytest.mark.django_db
DUE = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)
URL = "/api/medications/reminders/"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "medications.tests.backends.ScriptedBackend"
    settings.PUBLIC_URL = "https://meditrack.example"


def no_retry(reminder_id, claim):  # pragma: no cover - a test fails if it is called
    raise AssertionError(f"unexpected retry of {reminder_id}")


@pytest.fixture
def patient():
    return PatientFactory(timezone="UTC", email="pat@example.test", first_name="Pat")


@pytest.fixture
def sent(patient):
    """A dose due at 08:00 UTC, emailed by the sweep at 08:00."""
    services.medication_create(
        patient=patient,
        data={
            "name": "Metformin",
            "dosage": "500 mg",
            "frequency": Frequency.CUSTOM,
            "custom_schedule": ["08:00"],
            "start_date": datetime.date(2026, 5, 1),
        },
        now=DUE - datetime.timedelta(hours=1),
    )
    sweep(now=DUE, on_transient=no_retry)
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.SENT and len(mail.outbox) == 1
    return reminder


def test_reminder_email_has_confirm_first_then_snooze(sent):
    (message,) = mail.outbox
    urls = re.findall(r"https://meditrack\.example\S+", message.body)
    assert urls[0].startswith("https://meditrack.example/api/medications/reminders/confirm/")
    assert urls[1].startswith("https://meditrack.example/api/medications/reminders/snooze/")
    assert "Snooze 15 min" in message.body
    html = message.alternatives[0][0]
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert "/reminders/confirm/" in hrefs[0] and "/reminders/snooze/" in hrefs[1]
    assert "Snooze 15 min" in html
    token = urls[1].rstrip("/").rsplit("/", 1)[1]
    assert services.SNOOZE_LINK.object_id(token) == sent.pk


def test_snoozed_dose_gets_one_more_email_at_the_snooze_time(sent):
    services.reminder_snooze(reminder=sent, minutes=30, now=DUE + 5 * MINUTE)
    sent.refresh_from_db()
    assert sent.snoozed_until == DUE + 35 * MINUTE
    assert sweep(now=DUE + 34 * MINUTE, on_transient=no_retry).snoozed == 0
    result = sweep(now=DUE + 35 * MINUTE, on_transient=no_retry)
    assert result.snoozed == 1
    assert len(mail.outbox) == 2
    again = mail.outbox[1]
    assert again.subject == "Snoozed reminder: Metformin 500 mg at 08:00"
    assert "You asked to be reminded again." in again.body
    assert "/reminders/confirm/" in again.body
    for minutes in (35, 40, 60, 120):  # replays and later ticks: nothing more
        sweep(now=DUE + minutes * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 2
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.SENT and sent.snoozed_until == DUE + 35 * MINUTE


def test_snoozing_again_sends_again(sent):
    services.reminder_snooze(reminder=sent, minutes=15, now=DUE)
    sweep(now=DUE + 15 * MINUTE, on_transient=no_retry)
    services.reminder_snooze(reminder=sent, minutes=15, now=DUE + 16 * MINUTE)
    sweep(now=DUE + 20 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 2
    sweep(now=DUE + 31 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 3


def test_answered_before_the_snooze_time_gets_nothing(sent):
    services.reminder_snooze(reminder=sent, minutes=15, now=DUE)
    services.reminder_answer(reminder=sent, status=ReminderStatus.TAKEN, now=DUE + 5 * MINUTE)
    sweep(now=DUE + 20 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 1


def test_email_reminders_off_gets_no_snooze_email(sent, patient):
    services.reminder_snooze(reminder=sent, minutes=15, now=DUE)
    patient.email_reminders_enabled = False
    patient.save()
    sweep(now=DUE + 20 * MINUTE, on_transient=no_retry)
    assert len(mail.outbox) == 1


def test_transient_failure_gives_the_claim_back(sent, patient):
    services.reminder_snooze(reminder=sent, minutes=15, now=DUE)
    patient.email = "flaky@example.test"
    patient.save()
    assert sweep(now=DUE + 15 * MINUTE, on_transient=no_retry).snoozed == 0
    sent.refresh_from_db()
    assert sent.snooze_sent_at is None
    patient.email = "pat@example.test"
    patient.save()
    assert sweep(now=DUE + 20 * MINUTE, on_transient=no_retry).snoozed == 1
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("status", "at", "minutes", "words"),
    [
        (ReminderStatus.PENDING, 0, 15, "sent and is not answered"),
        (ReminderStatus.TAKEN, 0, 15, "sent and is not answered"),
        (ReminderStatus.MISSED, 0, 15, "sent and is not answered"),
        (ReminderStatus.SENT, 3 * 60 + 50, 15, "at most 10 minutes"),
        (ReminderStatus.SENT, 3 * 60 + 58, 5, "too late"),
    ],
)
def test_snooze_refusals(patient, status, at, minutes, words):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), scheduled_for=DUE, status=status)
    with pytest.raises(ValidationError) as exc:
        services.reminder_snooze(reminder=reminder, minutes=minutes, now=DUE + at * MINUTE)
    assert words in str(exc.value)
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None


# --- Over HTTP -------------------------------------------------------------------------------


def test_snooze_route_default_15_minutes(patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    response = client_for(patient).post(f"{URL}{reminder.pk}/snooze/", {}, format="json")
    assert response.status_code == 200, response.json()
    reminder.refresh_from_db()
    assert response.json()["snoozed_until"] is not None
    assert response.json()["id"] == reminder.pk and response.json()["status"] == "sent"
    delta = reminder.snoozed_until - datetime.datetime.now(UTC)
    assert datetime.timedelta(minutes=14) < delta <= datetime.timedelta(minutes=15)
    listed = client_for(patient).get(URL).json()
    assert listed[0]["snoozed_until"] == response.json()["snoozed_until"]


@pytest.mark.parametrize("minutes", [4, 241, "abc", True, None, 15.5])
def test_snooze_minutes_are_validated(patient, minutes):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    response = client_for(patient).post(f"{URL}{reminder.pk}/snooze/", {"minutes": minutes}, format="json")
    assert response.status_code == 400 and "minutes" in response.json()


def test_snooze_a_taken_dose_is_400(patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.TAKEN)
    response = client_for(patient).post(f"{URL}{reminder.pk}/snooze/", {"minutes": 30}, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_snooze_scoping(patient, doctor):
    patient.assigned_doctor = doctor
    patient.save()
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    assert client_for(doctor).post(f"{URL}{reminder.pk}/snooze/", {}, format="json").status_code == 403
    assert client_for(PatientFactory()).post(f"{URL}{reminder.pk}/snooze/", {}, format="json").status_code == 404
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None


def test_snooze_link_get_changes_nothing_post_snoozes(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient, name="Tom & <Jerry"))
    path = f"{URL}snooze/{services.SNOOZE_LINK.token(reminder.pk)}/"
    page = anon.get(path)
    assert page.status_code == 200 and '<form method="post">' in page.content.decode()
    assert "Tom &amp; &lt;Jerry" in page.content.decode()
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None
    done = anon.post(path)
    assert done.status_code == 200 and "Snoozed." in done.content.decode()
    reminder.refresh_from_db()
    until = reminder.snoozed_until
    assert until is not None
    again = anon.post(path)  # a second press does not push it further
    assert again.status_code == 200 and "Already snoozed" in again.content.decode()
    reminder.refresh_from_db()
    assert reminder.snoozed_until == until


def test_snooze_link_on_an_answered_dose_is_a_page(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.TAKEN)
    path = f"{URL}snooze/{services.SNOOZE_LINK.token(reminder.pk)}/"
    page = anon.get(path)
    assert page.status_code == 200 and "<form" not in page.content.decode()
    response = anon.post(path)
    assert response.status_code == 409 and "can be snoozed" in response.content.decode()


def test_a_confirm_token_is_not_a_snooze_token(anon, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient))
    assert anon.post(f"{URL}snooze/{services.confirm_token(reminder.pk)}/").status_code == 400
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None
