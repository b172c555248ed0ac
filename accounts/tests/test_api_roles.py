import pytest

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for

pytestmark = pytest.mark.django_db


def test_doctor_sees_only_assigned_patients(doctor, doctor_client):
    mine = PatientFactory(assigned_doctor=doctor)
    PatientFactory(assigned_doctor=DoctorFactory())
    PatientFactory()
    body = doctor_client.get("/api/auth/patients/").json()
    assert isinstance(body, list)
    assert [row["id"] for row in body] == [mine.id]
    assert set(body[0]) == {"id", "username", "email", "first_name", "last_name", "phone", "date_of_birth", "timezone"}


def test_patients_list_is_for_doctors_only(patient_client):
    assert patient_client.get("/api/auth/patients/").status_code == 403


def test_unverified_doctor_sees_no_patients(db):
    doctor = DoctorFactory(is_verified_doctor=False)
    PatientFactory(assigned_doctor=doctor)
    response = client_for(doctor).get("/api/auth/patients/")
    assert response.status_code == 403
    assert "verif" in response.json()["detail"]


def test_patients_list_query_count(doctor, doctor_client, django_assert_num_queries):
    PatientFactory.create_batch(5, assigned_doctor=doctor)
    with django_assert_num_queries(3):  # the user (auth) + the list + the audit (one INSERT)
        assert len(doctor_client.get("/api/auth/patients/").json()) == 5


def test_doctors_list_shows_verified_doctors_to_patients(patient_client):
    verified = DoctorFactory(is_verified_doctor=True)
    DoctorFactory(is_verified_doctor=False)
    DoctorFactory(is_verified_doctor=True, is_active=False)
    body = patient_client.get("/api/auth/doctors/").json()
    assert body == [
        {
            "id": verified.id,
            "username": verified.username,
            "first_name": verified.first_name,
            "last_name": verified.last_name,
        }
    ]


def test_doctors_list_query_count(patient_client, django_assert_num_queries):
    DoctorFactory.create_batch(4)
    with django_assert_num_queries(2):
        assert len(patient_client.get("/api/auth/doctors/").json()) == 4


def test_doctors_list_is_for_patients(doctor_client):
    assert doctor_client.get("/api/auth/doctors/").status_code == 403


@pytest.mark.parametrize("method", ["put", "patch"])
def test_assign_a_verified_doctor(patient, patient_client, method):
    doctor = DoctorFactory(first_name="Ann", last_name="Lee")
    response = getattr(patient_client, method)(
        "/api/auth/assign-doctor/", {"assigned_doctor": doctor.id}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"assigned_doctor": doctor.id, "assigned_doctor_name": "Ann Lee"}
    patient.refresh_from_db()
    assert patient.assigned_doctor == doctor


def test_unassign(patient, patient_client):
    patient.assigned_doctor = DoctorFactory()
    patient.save()
    response = patient_client.put("/api/auth/assign-doctor/", {"assigned_doctor": None}, format="json")
    assert response.json() == {"assigned_doctor": None, "assigned_doctor_name": None}
    patient.refresh_from_db()
    assert patient.assigned_doctor is None


@pytest.mark.parametrize("target", ["unverified", "patient", "missing", "junk"])
def test_only_verified_doctors_can_be_assigned(patient, patient_client, target):
    value = {
        "unverified": lambda: DoctorFactory(is_verified_doctor=False).id,
        "patient": lambda: PatientFactory().id,
        "missing": lambda: 987654,
        "junk": lambda: "abc",
    }[target]()
    response = patient_client.put("/api/auth/assign-doctor/", {"assigned_doctor": value}, format="json")
    assert response.status_code == 400
    assert "assigned_doctor" in response.json()
    patient.refresh_from_db()
    assert patient.assigned_doctor is None


def test_assign_doctor_changes_nothing_else(patient, patient_client):
    doctor = DoctorFactory()
    patient_client.put(
        "/api/auth/assign-doctor/", {"assigned_doctor": doctor.id, "role": "doctor", "email": "x@y.z"}, format="json"
    )
    patient.refresh_from_db()
    assert patient.role == "patient" and patient.email != "x@y.z"


def test_doctors_cannot_assign(doctor_client):
    response = doctor_client.put("/api/auth/assign-doctor/", {"assigned_doctor": None}, format="json")
    assert response.status_code == 403


def test_patients_list_is_audited_once_per_listed_patient(doctor, doctor_client, django_assert_num_queries):
    from accounts.models import DataAccessLog

    listed = PatientFactory.create_batch(3, assigned_doctor=doctor)
    PatientFactory(assigned_doctor=DoctorFactory())  # another doctor's patient: not read, not logged
    with django_assert_num_queries(3):  # the user (auth) + the list + one INSERT for the whole audit
        assert len(doctor_client.get("/api/auth/patients/").json()) == 3
    rows = DataAccessLog.objects.values_list("patient_id", "doctor_id", "resource")
    assert sorted(rows) == sorted((p.pk, doctor.pk, "profile") for p in listed)
    body = client_for(listed[0]).get("/api/auth/access-log/").json()
    assert [(row["doctor_id"], row["resource"]) for row in body] == [(doctor.pk, "profile")]


def test_patients_list_page_audits_only_the_patients_on_that_page(doctor, doctor_client):
    from accounts.models import DataAccessLog

    PatientFactory.create_batch(3, assigned_doctor=doctor)
    page = doctor_client.get("/api/auth/patients/?limit=2").json()["results"]
    assert sorted(DataAccessLog.objects.values_list("patient_id", flat=True)) == sorted(row["id"] for row in page)
