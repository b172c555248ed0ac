import datetime

import pytest
from django.utils import timezone

from accounts.models import DataAccessLog
from accounts.services import doctor_access_record
from accounts.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_patient_sees_who_read_what_newest_first(patient, patient_client, doctor):
    doctor_access_record(doctor=doctor, patient_ids=[patient.id], resource="medications")
    DataAccessLog.objects.update(accessed_at=timezone.now() - datetime.timedelta(hours=1))
    doctor_access_record(doctor=doctor, patient_ids=[patient.id], resource="dashboard")
    body = patient_client.get("/api/auth/access-log/").json()
    assert [row["resource"] for row in body] == ["dashboard", "medications"]
    assert set(body[0]) == {"doctor_id", "doctor_name", "resource", "accessed_at"}
    assert body[0]["doctor_id"] == doctor.id
    assert body[0]["doctor_name"] == doctor.display_name


def test_only_own_log_is_visible(patient, patient_client, doctor):
    other = PatientFactory(assigned_doctor=doctor)
    doctor_access_record(doctor=doctor, patient_ids=[other.id], resource="symptoms")
    assert patient_client.get("/api/auth/access-log/").json() == []


def test_patients_only(doctor_client):
    assert doctor_client.get("/api/auth/access-log/").status_code == 403


def test_patient_reads_are_not_logged(patient):
    doctor_access_record(doctor=patient, patient_ids=[patient.id], resource="symptoms")
    assert not DataAccessLog.objects.exists()


def test_log_survives_the_doctor_account(patient, patient_client):
    doctor = DoctorFactory(first_name="Dana", last_name="Scully")
    doctor_access_record(doctor=doctor, patient_ids=[patient.id], resource="report")
    doctor.delete()
    body = patient_client.get("/api/auth/access-log/").json()
    assert body[0]["doctor_id"] is None and body[0]["doctor_name"] == "Dana Scully"


def test_access_log_query_count(patient, patient_client, doctor, django_assert_num_queries):
    for resource in ("medications", "symptoms", "moods"):
        doctor_access_record(doctor=doctor, patient_ids=[patient.id], resource=resource)
    with django_assert_num_queries(2):
        assert len(patient_client.get("/api/auth/access-log/").json()) == 3
