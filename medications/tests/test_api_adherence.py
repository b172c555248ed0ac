"""/api/medications/adherence/: the SPEC's shape and math, computed by the database."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from medications.models import ReminderKind, ReminderStatus
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db
URL = "/api/medications/adherence/"


def ago(**kwargs) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kwargs)


def test_empty_window_has_null_rate(patient_client):
    body = patient_client.get(URL).json()
    assert body["adherence_rate"] is None
    assert (body["total_reminders"], body["taken_reminders"]) == (0, 0)
    assert body["medications"] == [] and body["history"] == []
    assert body["period"]["end"] == str(timezone.now().date())
    assert body["period"]["start"] == str(timezone.now().date() - datetime.timedelta(days=29))


def test_rate_counts_only_past_answered_or_missed_scheduled_doses(patient_client, patient):
    a = MedicationFactory(patient=patient, name="Aspirin")
    b = MedicationFactory(patient=patient, name="Beta")
    for status in ("taken", "taken", "taken", "missed", "skipped"):
        ReminderFactory(medication=a, status=status, scheduled_for=ago(hours=3))
    ReminderFactory(medication=b, status="taken", scheduled_for=ago(days=2))
    # Not counted: unanswered, pending, failed, a logged dose, outside the window, someone else's.
    ReminderFactory(medication=b, status=ReminderStatus.SENT, scheduled_for=ago(minutes=30))
    ReminderFactory(medication=b, status=ReminderStatus.PENDING, scheduled_for=ago(minutes=1))
    ReminderFactory(medication=b, status=ReminderStatus.FAILED, scheduled_for=ago(hours=1))
    ReminderFactory(medication=b, status="taken", kind=ReminderKind.LOGGED, scheduled_for=ago(hours=1))
    ReminderFactory(medication=b, status="missed", scheduled_for=ago(days=40))
    ReminderFactory(status="missed", scheduled_for=ago(hours=1))

    body = patient_client.get(f"{URL}?days=30").json()
    assert body["total_reminders"] == 6
    assert (body["taken_reminders"], body["missed_reminders"], body["skipped_reminders"]) == (4, 1, 1)
    assert body["adherence_rate"] == pytest.approx(66.7)
    assert body["medications"] == [
        {"medication_id": a.pk, "name": "Aspirin", "adherence_rate": 60.0, "taken": 3, "missed": 1, "skipped": 1},
        {"medication_id": b.pk, "name": "Beta", "adherence_rate": 100.0, "taken": 1, "missed": 0, "skipped": 0},
    ]
    assert len(body["history"]) == 10  # everything in the window, newest first
    assert body["history"][0]["status"] == "pending"


def test_window_follows_the_patients_local_day():
    from conftest import client_for

    patient = PatientFactory(timezone="Pacific/Kiritimati")  # UTC+14
    medication = MedicationFactory(patient=patient)
    local_midnight = timezone.now().astimezone(patient.tzinfo).replace(hour=0, minute=0, second=0, microsecond=0)
    ReminderFactory(medication=medication, status="taken", scheduled_for=local_midnight + datetime.timedelta(seconds=1))
    ReminderFactory(medication=medication, status="taken", scheduled_for=local_midnight - datetime.timedelta(seconds=1))
    body = client_for(patient).get(f"{URL}?days=1").json()
    now = timezone.now()
    expected = 1 if local_midnight + datetime.timedelta(seconds=1) <= now else 0
    assert body["total_reminders"] == expected
    assert body["period"]["start"] == body["period"]["end"] == str(local_midnight.date())


@pytest.mark.parametrize("days", ["0", "366", "-1", "abc", "1e3", str(10**9)])
def test_days_validation(patient_client, days):
    response = patient_client.get(f"{URL}?days={days}")
    assert response.status_code == 400 and "days" in response.json()


def test_doctor_needs_an_assigned_patient(doctor_client, doctor):
    assigned = PatientFactory(assigned_doctor=doctor)
    ReminderFactory(medication=MedicationFactory(patient=assigned), status="taken")
    assert doctor_client.get(URL).status_code == 400
    assert doctor_client.get(f"{URL}?patient={PatientFactory().pk}").status_code == 404
    body = doctor_client.get(f"{URL}?patient={assigned.pk}&days=7").json()
    assert body["taken_reminders"] == 1


def test_patient_naming_someone_else_is_404(patient_client):
    assert patient_client.get(f"{URL}?patient={PatientFactory().pk}").status_code == 404


def test_query_count_is_constant(patient_client, patient, django_assert_num_queries):
    for medication in MedicationFactory.create_batch(4, patient=patient):
        ReminderFactory.create_batch(3, medication=medication, status="taken")
    with django_assert_num_queries(3):  # auth user, per medication (the totals are their sums), history
        patient_client.get(URL)
