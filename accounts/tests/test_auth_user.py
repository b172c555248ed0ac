"""The authenticated user is read on every request: whatever changed about it counts at once."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from accounts.admin import UserAdmin
from accounts.models import User
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_user_and_their_doctor_are_one_query(patient_client, django_assert_num_queries):
    patient_client.get("/api/auth/profile/")
    with django_assert_num_queries(1):
        assert patient_client.get("/api/auth/profile/").status_code == 200


def test_profile_edits_are_seen_at_once(patient_client):
    patient_client.get("/api/auth/profile/")
    patient_client.patch("/api/auth/profile/", {"timezone": "Asia/Tokyo"}, format="json")
    assert patient_client.get("/api/auth/profile/").json()["timezone"] == "Asia/Tokyo"


def test_a_deactivated_user_is_refused_at_once(patient, patient_client):
    assert patient_client.get("/api/auth/profile/").status_code == 200
    User.objects.filter(pk=patient.pk).update(is_active=False)  # a bulk write: no signal, no save()
    assert patient_client.get("/api/auth/profile/").status_code == 401


def test_a_changed_password_refuses_the_old_tokens(patient, patient_client):
    assert patient_client.get("/api/auth/profile/").status_code == 200
    patient.set_password("an-entirely-new-Passphrase-7")
    patient.save()
    response = patient_client.get("/api/auth/profile/")
    assert response.status_code == 401
    assert response.json()["code"] == "password_changed"
    assert client_for(patient).get("/api/auth/profile/").status_code == 200  # a token issued since


def test_revoking_a_doctor_in_the_admin_takes_effect_at_once(doctor, doctor_client):
    assert doctor_client.get("/api/auth/patients/").status_code == 200
    request = RequestFactory().post("/admin/")
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    UserAdmin(User, site).unverify_doctors(request, User.objects.filter(pk=doctor.pk))
    assert doctor_client.get("/api/auth/patients/").status_code == 403


def test_a_renamed_doctor_shows_on_the_patients_profile(db):
    doctor = DoctorFactory(first_name="Ann", last_name="Lee")
    patient = PatientFactory(assigned_doctor=doctor)
    client = client_for(patient)
    assert client.get("/api/auth/profile/").json()["assigned_doctor_name"] == "Ann Lee"
    User.objects.filter(pk=doctor.pk).update(last_name="Smith")
    assert client.get("/api/auth/profile/").json()["assigned_doctor_name"] == "Ann Smith"


def test_a_deleted_user_is_refused(patient, patient_client):
    patient_client.get("/api/auth/profile/")
    patient.delete()
    assert patient_client.get("/api/auth/profile/").status_code == 401


@pytest.mark.parametrize("with_doctor", [True, False])
def test_the_users_query_loads_what_the_orm_would(with_doctor, django_assert_num_queries):
    from accounts.selectors import user_with_doctor

    doctor = DoctorFactory(first_name="Ann", last_name="Lee") if with_doctor else None
    patient = PatientFactory(assigned_doctor=doctor, date_of_birth="1980-02-03")
    expected = User.objects.select_related("assigned_doctor").get(pk=patient.pk)
    with django_assert_num_queries(1):
        loaded = user_with_doctor(patient.pk)
        names = loaded.assigned_doctor.display_name if with_doctor else loaded.assigned_doctor
    fields = [field.attname for field in User._meta.concrete_fields]
    assert [getattr(loaded, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert names == ("Ann Lee" if with_doctor else None)
    if with_doctor:  # the doctor is a whole row too: nothing of theirs loads later
        with django_assert_num_queries(0):
            assert [getattr(loaded.assigned_doctor, name) for name in fields] == [
                getattr(expected.assigned_doctor, name) for name in fields
            ]
    assert not any(name.startswith("doctor_") for name in vars(loaded))
    assert user_with_doctor(patient.pk + 1000) is None


def test_a_token_naming_no_id_is_refused(patient, anon):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(patient)
    token["user_id"] = "not-an-id"
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = anon.get("/api/auth/profile/")
    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"
