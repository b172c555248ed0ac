"""Junk input is a 400 naming the field (or a 404 for an impossible id), never coerced or a 500."""

import pytest

from medications.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db

HUGE = "9" * 25


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/symptoms/", {"name": "Ache", "severity": "5", "date": "2026-01-01"}, "severity"),
        ("/api/symptoms/", {"name": "Ache", "severity": 5.5, "date": "2026-01-01"}, "severity"),
        ("/api/symptoms/", {"name": 7, "severity": 5, "date": "2026-01-01"}, "name"),
        ("/api/symptoms/", {"name": "Ache", "severity": 5, "date": "2026-01-01", "notes": 0}, "notes"),
        ("/api/symptoms/", {"name": "Ache", "severity": 5, "date": 20260101}, "date"),
        ("/api/symptoms/", {"name": "Ache", "severity": 5, "related_medications": 3}, "related_medications"),
        ("/api/symptoms/", {"name": "Ache", "severity": 5, "related_medications": [int(HUGE)]}, "related_medications"),
        ("/api/moods/", {"mood": True, "date": "2026-01-01"}, "mood"),
        ("/api/medications/", {"name": "A", "dosage": "1", "frequency": "once_daily", "is_active": 1}, "is_active"),
        ("/api/auth/assign-doctor/", {"assigned_doctor": "3"}, "assigned_doctor"),
        ("/api/auth/assign-doctor/", {"assigned_doctor": int(HUGE)}, "assigned_doctor"),
    ],
)
def test_wrong_json_types_are_rejected(patient_client, path, body, field):
    method = patient_client.put if path.endswith("assign-doctor/") else patient_client.post
    response = method(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_profile_booleans_must_be_booleans(patient_client):
    response = patient_client.patch("/api/auth/profile/", {"email_reminders_enabled": "false"}, format="json")
    assert response.status_code == 400
    assert "email_reminders_enabled" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "/api/symptoms/?date=",
        "/api/symptoms/?severity=",
        "/api/moods/?date_before=",
        "/api/medications/?is_active=",
        "/api/medications/reminders/?medication=",
        "/api/dashboard/?days=",
        "/api/medications/?is_active=maybe",
        f"/api/symptoms/?severity={HUGE}",
        f"/api/medications/reminders/?medication={HUGE}",
        f"/api/dashboard/?patient={HUGE}",
        f"/api/symptoms/by_medication/?medication_id={HUGE}",
    ],
)
def test_blank_or_impossible_query_values_are_400(patient_client, query):
    response = patient_client.get(query)
    assert response.status_code == 400, (query, response.content)
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    "prefix", ["/api/symptoms/", "/api/moods/", "/api/medications/", "/api/medications/reminders/"]
)
def test_impossibly_large_ids_are_404(patient_client, prefix):
    assert patient_client.get(f"{prefix}{HUGE}/").status_code == 404


def test_search_with_a_null_character_is_an_object_shaped_400(patient_client):
    response = patient_client.get("/api/symptoms/?search=a%00b")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_usernames_are_ascii(anon):
    body = {"username": "¼X", "email": "u@example.test", "password": "correct-horse-battery-staple"}
    response = anon.post("/api/auth/register/", body, format="json")
    assert response.status_code == 400
    assert "username" in response.json()


def test_valid_input_still_works(patient_client, patient):
    medication = MedicationFactory(patient=patient)
    body = {"name": "Ache", "severity": 5, "date": str(patient.local_today()), "related_medications": [medication.pk]}
    assert patient_client.post("/api/symptoms/", body, format="json").status_code == 201
