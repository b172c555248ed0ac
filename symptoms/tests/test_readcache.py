"""A patient's repeated reads come from the cache, and every change to their data shows at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import client_for
from medications.tests.factories import MedicationFactory
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_reads(settings):
    settings.READ_CACHE_SECONDS = 300


@pytest.mark.parametrize(
    "path",
    [
        "/api/symptoms/",
        "/api/symptoms/last_seven_days/",
        "/api/symptoms/summary/",
        "/api/moods/",
        "/api/moods/trends/",
        "/api/dashboard/",
    ],
)
def test_a_repeated_read_costs_only_authentication(patient, patient_client, path, django_assert_num_queries):
    SymptomFactory(patient=patient)
    first = patient_client.get(path)
    with django_assert_num_queries(1):  # the user (JWT); the answer comes from the cache
        again = patient_client.get(path)
    assert again.json() == first.json()


def test_new_edited_and_deleted_symptoms_show_at_once(patient, patient_client):
    assert patient_client.get("/api/symptoms/").json() == []
    body = {"name": "Ache", "severity": 4, "date": str(patient.local_today())}
    created = patient_client.post("/api/symptoms/", body, format="json").json()
    assert [row["name"] for row in patient_client.get("/api/symptoms/").json()] == ["Ache"]
    patient_client.patch(f"/api/symptoms/{created['id']}/", {"severity": 9}, format="json")
    assert patient_client.get(f"/api/symptoms/{created['id']}/").json()["severity"] == 9
    assert patient_client.get("/api/dashboard/?days=7").json()["stats"]["total_symptoms_logged"] == 1
    patient_client.delete(f"/api/symptoms/{created['id']}/")
    assert patient_client.get("/api/symptoms/").json() == []
    assert patient_client.get("/api/dashboard/?days=7").json()["stats"]["total_symptoms_logged"] == 0


def test_a_renamed_medication_shows_in_the_symptom_details(patient, patient_client):
    medication = MedicationFactory(patient=patient, name="Old name")
    SymptomFactory(patient=patient, related_medications=[medication])
    assert patient_client.get("/api/symptoms/").json()[0]["related_medications_details"][0]["name"] == "Old name"
    patient_client.patch(f"/api/medications/{medication.pk}/", {"name": "New name"}, format="json")
    assert patient_client.get("/api/symptoms/").json()[0]["related_medications_details"][0]["name"] == "New name"


def test_a_new_mood_shows_in_the_trends(patient, patient_client):
    assert patient_client.get("/api/moods/trends/?days=7").json()["average"] is None
    MoodFactory(patient=patient, mood=4, date=patient.local_today())
    assert patient_client.get("/api/moods/trends/?days=7").json()["average"] == 4.0


def test_a_time_zone_change_is_a_different_answer(patient, patient_client):
    labels = patient_client.get("/api/dashboard/?days=1").json()["symptom_trends"]["labels"]
    patient_client.patch("/api/auth/profile/", {"timezone": "Pacific/Kiritimati"}, format="json")
    patient.refresh_from_db()
    assert patient_client.get("/api/dashboard/?days=1").json()["symptom_trends"]["labels"] == [
        patient.local_today().isoformat()
    ]
    assert labels  # the first answer had its own day


def test_doctor_reads_are_never_cached(doctor, patient):
    patient.assigned_doctor = doctor
    patient.save()
    SymptomFactory(patient=patient)
    client = client_for(doctor)
    client.get(f"/api/dashboard/?patient={patient.pk}")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/dashboard/?patient={patient.pk}")
    # computed again (the aggregates run) and audited again (the access-log insert)
    assert len(queries) > 3
    assert any("accounts_dataaccesslog" in q["sql"] and "INSERT" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("path", ["/api/medications/", "/api/medications/current/", "/api/medications/upcoming/"])
def test_medication_reads_are_cached_and_see_every_change(patient, patient_client, path, django_assert_num_queries):
    medication = MedicationFactory(patient=patient, name="Before")
    patient_client.get(path)
    with django_assert_num_queries(1):
        patient_client.get(path)
    patient_client.patch(f"/api/medications/{medication.pk}/", {"name": "After"}, format="json")
    names = [row["name"] for row in patient_client.get(path).json()]
    assert "Before" not in names
    assert patient_client.get(f"/api/medications/{medication.pk}/").json()["name"] == "After"
    patient_client.delete(f"/api/medications/{medication.pk}/")
    assert patient_client.get(f"/api/medications/{medication.pk}/").status_code == 404
    assert all(row["id"] != medication.pk for row in patient_client.get(path).json())


def test_adherence_shows_the_patients_own_answers_at_once(patient, patient_client):
    from medications.models import ReminderStatus
    from medications.tests.factories import ReminderFactory

    dose = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.MISSED)
    assert patient_client.get("/api/medications/adherence/?days=7").json()["adherence_rate"] == 0.0
    patient_client.post(f"/api/medications/reminders/{dose.pk}/taken/")
    assert patient_client.get("/api/medications/adherence/?days=7").json()["adherence_rate"] == 100.0


def test_adherence_catches_up_with_the_sweep_within_a_minute(patient, patient_client, monkeypatch):
    import time

    from accounts import readcache
    from medications.models import Reminder, ReminderStatus
    from medications.tests.factories import ReminderFactory

    dose = ReminderFactory(medication=MedicationFactory(patient=patient), status=ReminderStatus.TAKEN)
    assert patient_client.get("/api/medications/adherence/?days=7").json()["taken_reminders"] == 1
    # What the sweep does: a bulk UPDATE, no signal, no version change.
    Reminder.objects.filter(pk=dose.pk).update(status=ReminderStatus.MISSED)
    now = time.time()
    monkeypatch.setattr(readcache.time, "time", lambda: now + 61)
    assert patient_client.get("/api/medications/adherence/?days=7").json()["taken_reminders"] == 0
