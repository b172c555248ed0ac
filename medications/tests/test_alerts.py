"""Missed-dose alerts to accepted caregivers and the opted-in doctor, sent by the sweep."""

import datetime

import pytest
from django.core import mail

from accounts.models import Caregiver, CaregiverStatus
from accounts.tests.factories import DoctorFactory, PatientFactory
from medications import services
from medications.models import Frequency, Medication, Reminder, ReminderStatus
from medications.services.sweep import sweep

UTC = datetime.UTC
pytestmark = pytest.mark.django_db
DAY = datetime.datetime(2026, 6, 1, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "medications.tests.backends.ScriptedBackend"
    settings.PUBLIC_URL = "https://meditrack.example"


def no_retry(reminder_id, claim):  # pragma: no cover - a test fails if it is called
    raise AssertionError(f"unexpected retry of {reminder_id}")


def medicate(patient, *, times=("08:00", "09:00"), name="Metformin"):
    return services.medication_create(
        patient=patient,
        data={
            "name": name,
            "dosage": "500 mg",
            "frequency": Frequency.CUSTOM,
            "custom_schedule": list(times),
            "start_date": datetime.date(2026, 5, 1),
        },
        now=DAY,
    )


def caregiver(patient, email, status=CaregiverStatus.ACCEPTED, name="Carer"):
    return Caregiver.objects.create(patient=patient, email=email, name=name, status=status)


def run(*instants):
    results = [sweep(now=DAY + at, on_transient=no_retry) for at in instants]
    return results[-1]


def alerts():
    return [m for m in mail.outbox if "missed" in m.subject]


@pytest.fixture
def patient():
    return PatientFactory(timezone="Europe/Paris", first_name="Asha", last_name="", email="asha@example.test")


def test_accepted_caregiver_gets_one_email_listing_the_newly_missed_doses(patient):
    medicate(patient)  # 08:00 and 09:00 Paris = 06:00 and 07:00 UTC
    caregiver(patient, "accepted@example.test")
    caregiver(patient, "invited@example.test", status=CaregiverStatus.INVITED)
    caregiver(patient, "gone@example.test", status=CaregiverStatus.UNSUBSCRIBED)
    caregiver(PatientFactory(), "someone-else@example.test")
    run(6 * HOUR, 7 * HOUR)  # both doses emailed to the patient
    assert alerts() == []
    result = run(11 * HOUR + datetime.timedelta(minutes=5))  # both are 4 hours old now
    assert result.missed == 2 and result.alerts == 1
    (message,) = alerts()
    assert message.to == ["accepted@example.test"]
    assert message.subject == "Asha missed 2 medication doses"
    assert "08:00 on 2026-06-01" in message.body and "09:00 on 2026-06-01" in message.body
    assert "Europe/Paris" in message.body
    assert "Metformin" not in message.body and "Metformin" not in message.alternatives[0][0]  # not shared
    # Later sweeps: nothing new.
    run(12 * HOUR, 13 * HOUR)
    assert len(alerts()) == 1
    assert not Reminder.objects.filter(alert_due=True).exists()


def test_names_only_when_the_patient_shares_them(patient):
    patient.share_medication_names = True
    patient.save()
    medicate(patient, times=("08:00",), name="Tom & Jerry > 2")
    caregiver(patient, "c@example.test", name="<b>Bea</b>")
    run(6 * HOUR, 11 * HOUR)
    (message,) = alerts()
    assert message.subject == "Asha missed 1 medication dose"
    assert "Tom & Jerry > 2 500 mg at 08:00" in message.body
    html = message.alternatives[0][0]
    assert "Tom &amp; Jerry &gt; 2 500 mg" in html
    assert "&lt;b&gt;Bea&lt;/b&gt;" in html and "<b>Bea</b>" not in html


def test_every_alert_has_an_unsubscribe_link_and_the_rfc8058_headers(patient, anon):
    medicate(patient, times=("08:00",))
    carer = caregiver(patient, "c@example.test")
    run(6 * HOUR, 11 * HOUR)
    (message,) = alerts()
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://meditrack.example/api/auth/caregivers/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body and url in message.alternatives[0][0]
    path = url.replace("https://meditrack.example", "")
    assert (
        anon.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded").status_code
        == 200
    )
    carer.refresh_from_db()
    assert carer.status == CaregiverStatus.UNSUBSCRIBED
    # The next missed dose goes to nobody.
    run(DAY.replace(day=2) - DAY + 6 * HOUR, DAY.replace(day=2) - DAY + 11 * HOUR)
    assert len(alerts()) == 1


def test_one_email_per_caregiver_per_patient(patient):
    other = PatientFactory(first_name="Ben", last_name="", timezone="UTC")
    medicate(patient, times=("08:00",))
    medicate(other, times=("06:00",))
    caregiver(patient, "shared@example.test")
    caregiver(other, "shared@example.test")
    caregiver(patient, "second@example.test")
    run(6 * HOUR, 11 * HOUR)
    assert sorted((m.to[0], m.subject.split()[0]) for m in alerts()) == [
        ("second@example.test", "Asha"),
        ("shared@example.test", "Asha"),
        ("shared@example.test", "Ben"),
    ]


def test_the_doctor_only_with_notify_doctor_on_missed(patient):
    doctor = DoctorFactory(email="doc@example.test")
    patient.assigned_doctor = doctor
    patient.save()
    medicate(patient, times=("08:00",))
    run(6 * HOUR, 11 * HOUR)
    assert alerts() == []
    patient.notify_doctor_on_missed = True
    patient.save()
    next_day = DAY.replace(day=2) - DAY
    run(next_day + 6 * HOUR, next_day + 11 * HOUR)
    (message,) = alerts()
    assert message.to == ["doc@example.test"]
    assert "/api/auth/missed-dose-alerts/unsubscribe/" in message.extra_headers["List-Unsubscribe"]


def test_an_unverified_doctor_gets_nothing(patient):
    patient.assigned_doctor = DoctorFactory(is_verified_doctor=False)
    patient.notify_doctor_on_missed = True
    patient.save()
    medicate(patient, times=("08:00",))
    run(6 * HOUR, 11 * HOUR)
    assert alerts() == [] and not Reminder.objects.filter(alert_due=True).exists()


def test_answered_doses_and_outage_catch_up_are_not_reported(patient):
    medicate(patient, times=("08:00", "09:00"))
    caregiver(patient, "c@example.test")
    run(6 * HOUR)
    services.reminder_answer(reminder=Reminder.objects.get(), status=ReminderStatus.TAKEN, now=DAY + 6 * HOUR)
    run(12 * HOUR)  # 09:00 Paris was never emailed: recorded missed while catching up
    assert Reminder.objects.filter(status=ReminderStatus.MISSED).count() == 1
    assert alerts() == []


def test_a_caregiver_who_accepts_later_hears_only_of_later_misses(patient):
    medicate(patient, times=("08:00",))
    carer = caregiver(patient, "c@example.test", status=CaregiverStatus.INVITED)
    run(6 * HOUR, 11 * HOUR)
    carer.status = CaregiverStatus.ACCEPTED
    carer.save()
    run(12 * HOUR)
    assert alerts() == []


def test_sweep_running_twice_reports_once(patient):
    medicate(patient, times=("08:00",))
    caregiver(patient, "c@example.test")
    run(6 * HOUR)
    at = 11 * HOUR
    run(at, at, at)
    assert len(alerts()) == 1


# --- SMTP failures: retried while nobody was told, never twice ---------------------------------


def test_an_smtp_outage_postpones_the_alert_to_the_next_sweep(patient, monkeypatch):
    from medications.tests.backends import ScriptedBackend

    medicate(patient, times=("08:00",))
    caregiver(patient, "c@example.test")
    run(6 * HOUR)
    monkeypatch.setattr(ScriptedBackend, "down", True)
    run(11 * HOUR)
    assert alerts() == []
    assert Reminder.objects.filter(patient=patient, alert_due=True).count() == 1
    monkeypatch.setattr(ScriptedBackend, "down", False)
    run(11 * HOUR + datetime.timedelta(minutes=1), 12 * HOUR)
    assert [m.to for m in alerts()] == [["c@example.test"]]


def test_a_recipient_dropping_the_connection_is_tried_again_while_nobody_was_told(patient):
    medicate(patient, times=("08:00",))
    caregiver(patient, "flaky@example.test")
    run(6 * HOUR, 11 * HOUR)
    assert Reminder.objects.filter(patient=patient, alert_due=True).count() == 1
    Caregiver.objects.filter(patient=patient).update(email="fixed@example.test")
    run(12 * HOUR, 13 * HOUR)
    assert [m.to for m in alerts()] == [["fixed@example.test"]]


def test_no_retry_once_someone_got_the_alert_nor_for_a_refused_address(patient):
    medicate(patient, times=("08:00",))
    caregiver(patient, "ok@example.test")
    caregiver(patient, "flaky@example.test")
    other = PatientFactory(timezone="Europe/Paris", email="ravi@example.test")
    medicate(other, times=("08:00",))
    caregiver(other, "refused@example.test")
    run(6 * HOUR, 11 * HOUR, 12 * HOUR)
    assert [m.to for m in alerts()] == [["ok@example.test"]]
    assert not Reminder.objects.filter(alert_due=True).exists()


def test_an_alert_still_undelivered_a_day_after_its_dose_is_dropped(patient, monkeypatch):
    from medications.services import alerts as alert_service
    from medications.tests.backends import ScriptedBackend

    medicate(patient, times=("08:00",))
    caregiver(patient, "c@example.test")
    run(6 * HOUR)
    monkeypatch.setattr(ScriptedBackend, "down", True)
    run(11 * HOUR, 20 * HOUR)
    assert Reminder.objects.filter(patient=patient, alert_due=True).count() == 1
    Medication.objects.filter(patient=patient).update(is_active=False)  # no next day's reminder
    run(6 * HOUR + alert_service.RETRY_HOURS * HOUR + datetime.timedelta(minutes=1))
    assert not Reminder.objects.filter(patient=patient, alert_due=True).exists()
    monkeypatch.setattr(ScriptedBackend, "down", False)
    run(31 * HOUR)
    assert alerts() == []
