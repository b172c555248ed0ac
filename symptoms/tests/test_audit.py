"""Every read of a patient's data by a doctor lands in that patient's access log."""

import pytest

from accounts.models import DataAccessLog
from accounts.tests.factories import PatientFactory
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


def logged(patient):
    return list(DataAccessLog.objects.filter(patient=patient).values_list("resource", flat=True))


def test_doctor_list_across_patients_logs_each_patient_read(doctor, doctor_client, assigned_patient):
    second = PatientFactory(assigned_doctor=doctor)
    SymptomFactory(patient=assigned_patient)
    SymptomFactory(patient=second)
    assert doctor_client.get("/api/symptoms/").status_code == 200
    assert logged(assigned_patient) == ["symptoms"]
    assert logged(second) == ["symptoms"]


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/symptoms/summary/?patient={id}", "symptoms"),
        ("/api/moods/trends/?patient={id}", "moods"),
        ("/api/dashboard/?patient={id}", "dashboard"),
        ("/api/symptoms/ai_insights/?patient={id}", "insights"),
        ("/api/medications/?patient={id}", "medications"),
        ("/api/medications/current/?patient={id}", "medications"),
        ("/api/medications/reminders/?patient={id}", "medications"),
        ("/api/medications/adherence/?patient={id}", "adherence"),
        ("/api/reports/export/?patient={id}", "report"),
        ("/api/auth/patients/{id}/", "overview"),
    ],
)
def test_each_kind_of_read_is_logged(doctor_client, assigned_patient, path, resource):
    MoodFactory(patient=assigned_patient)
    response = doctor_client.get(path.format(id=assigned_patient.id))
    assert response.status_code == 200
    assert logged(assigned_patient) == [resource]


def test_the_patient_sees_the_doctors_reads(doctor_client, assigned_patient):
    from conftest import client_for

    doctor_client.get(f"/api/dashboard/?patient={assigned_patient.id}")
    body = client_for(assigned_patient).get("/api/auth/access-log/").json()
    assert [row["resource"] for row in body] == ["dashboard"]


def test_patients_own_reads_and_refused_reads_are_not_logged(patient_client, patient, doctor_client, other_patient):
    SymptomFactory(patient=patient)
    patient_client.get("/api/symptoms/")
    assert doctor_client.get(f"/api/dashboard/?patient={other_patient.id}").status_code == 404
    assert not DataAccessLog.objects.exists()


def test_doctor_dose_history_across_patients_logs_each_patient(doctor, doctor_client, assigned_patient):
    from medications.tests.factories import ReminderFactory

    second = PatientFactory(assigned_doctor=doctor)
    ReminderFactory(medication__patient=assigned_patient)
    ReminderFactory(medication__patient=second)
    ReminderFactory()  # someone else's: neither read nor logged
    assert len(doctor_client.get("/api/medications/reminders/").json()) == 2
    assert logged(assigned_patient) == ["medications"]
    assert logged(second) == ["medications"]
    assert DataAccessLog.objects.count() == 2
