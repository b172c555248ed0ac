import pytest

from accounts.models import Role, User
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for

pytestmark = pytest.mark.django_db


def test_profile_shape(patient_client, patient):
    body = patient_client.get("/api/auth/profile/").json()
    assert body["id"] == patient.id
    assert body["username"] == patient.username
    assert body["role"] == "patient"
    assert body["email_digest_enabled"] is False
    assert body["email_reminders_enabled"] is True


def test_patch_digest_flag(patient_client, patient):
    response = patient_client.patch("/api/auth/profile/", {"email_digest_enabled": True}, format="json")
    assert response.status_code == 200
    assert response.json()["email_digest_enabled"] is True
    patient.refresh_from_db()
    assert patient.email_digest_enabled is True


def test_read_only_fields_do_not_change(patient_client, patient):
    doctor = DoctorFactory()
    joined = patient.date_joined
    response = patient_client.patch(
        "/api/auth/profile/",
        {
            "role": "doctor",
            "assigned_doctor": doctor.id,
            "id": patient.pk + 1000,
            "date_joined": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.role == Role.PATIENT
    assert patient.assigned_doctor is None
    assert patient.date_joined == joined
    # The row kept its id: the answer names it, and no row took the id sent.
    assert response.json()["id"] == patient.pk
    assert not User.objects.filter(pk=patient.pk + 1000).exists()


def test_put_replaces_editable_fields(patient_client, patient):
    response = patient_client.put(
        "/api/auth/profile/",
        {"username": patient.username, "email": "new@example.test", "timezone": "Asia/Kolkata", "phone": "98765 43210"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert (patient.email, patient.timezone, patient.phone) == ("new@example.test", "Asia/Kolkata", "98765 43210")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"phone": "call me"}, "phone"),
        ({"date_of_birth": "2999-12-31"}, "date_of_birth"),
        ({"first_name": "<i>x"}, "first_name"),
        ({"email": "nope"}, "email"),
        ({"email": ""}, "email"),
        ({"email_digest_enabled": "maybe"}, "email_digest_enabled"),
    ],
)
def test_profile_validation(patient_client, payload, field):
    response = patient_client.patch("/api/auth/profile/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_email_change_to_anothers_email_in_other_case_is_400(patient_client):
    PatientFactory(email="taken@example.test")
    response = patient_client.patch("/api/auth/profile/", {"email": "TAKEN@example.test"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_keeping_own_email_in_other_case_is_fine(patient_client, patient):
    response = patient_client.patch("/api/auth/profile/", {"email": patient.email.upper()}, format="json")
    assert response.status_code == 200


def test_birth_date_today_in_a_zone_ahead_of_utc_is_accepted(patient):
    # At UTC+14 "today" may already be tomorrow in UTC terms: the patient's own date counts.
    patient.timezone = "Pacific/Kiritimati"
    patient.save()
    client = client_for(patient)
    response = client.patch("/api/auth/profile/", {"date_of_birth": str(patient.local_today())}, format="json")
    assert response.status_code == 200


def test_profile_needs_auth(anon):
    assert anon.get("/api/auth/profile/").status_code == 401
    assert anon.patch("/api/auth/profile/", {}, format="json").status_code == 401


def test_assigned_doctor_name_is_shown(patient_client, patient):
    doctor = DoctorFactory(first_name="Gregory", last_name="House")
    patient.assigned_doctor = doctor
    patient.save()
    body = patient_client.get("/api/auth/profile/").json()
    assert body["assigned_doctor"] == doctor.id
    assert body["assigned_doctor_name"] == "Gregory House"


def test_a_taken_email_gets_a_neutral_answer(patient_client):
    from accounts.services import EMAIL_UNAVAILABLE

    PatientFactory(email="someone@example.test")
    taken = patient_client.patch("/api/auth/profile/", {"email": "someone@example.test"}, format="json")
    assert taken.status_code == 400
    assert taken.json() == {"email": [EMAIL_UNAVAILABLE]}
    for word in ("exist", "taken", "another account", "already", "user"):
        assert word not in EMAIL_UNAVAILABLE.lower()


def test_email_changes_are_rate_limited_per_account(patient_client, patient, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_change": "3/h"}
    PatientFactory(email="someone@example.test")
    attempts = ["someone@example.test", "free1@example.test", "someone@example.test"]
    for n, email in enumerate(attempts):
        response = patient_client.patch("/api/auth/profile/", {"email": email}, format="json")
        assert response.status_code in (200, 400), (n, response.json())
    probe = patient_client.patch("/api/auth/profile/", {"email": "someone@example.test"}, format="json")
    assert probe.status_code == 429
    assert int(probe["Retry-After"]) >= 1
    # Other profile changes, and re-sending the current email, are not email changes.
    patient.refresh_from_db()
    body = {"email": patient.email.upper(), "first_name": "Ana"}
    assert patient_client.patch("/api/auth/profile/", body, format="json").status_code == 200
    assert patient_client.patch("/api/auth/profile/", {"email": patient.email}, format="json").status_code == 200
