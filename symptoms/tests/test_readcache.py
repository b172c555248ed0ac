"""A patient's repeated reads come from the cache, and every change to their data shows at once."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

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


def test_a_time_zone_change_is_a_different_answer(patient, patient_client, freeze_now):
    # 12:00 UTC is already the next day in Kiritimati (UTC+14).
    freeze_now(datetime.datetime(2026, 3, 8, 12, 0, tzinfo=datetime.UTC))
    assert patient.timezone == "UTC"
    assert patient_client.get("/api/dashboard/?days=1").json()["symptom_trends"]["labels"] == ["2026-03-08"]
    patient_client.patch("/api/auth/profile/", {"timezone": "Pacific/Kiritimati"}, format="json")
    assert patient_client.get("/api/dashboard/?days=1").json()["symptom_trends"]["labels"] == ["2026-03-09"]


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


def test_the_sweeps_bulk_changes_show_at_once(patient, patient_client, settings):
    from medications.models import Reminder, ReminderStatus
    from medications.services import sweep
    from medications.tests.factories import ReminderFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    medication = MedicationFactory(patient=patient)
    due = timezone.now() - datetime.timedelta(hours=5)
    dose = ReminderFactory(medication=medication, scheduled_for=due, status=ReminderStatus.SENT)
    assert patient_client.get("/api/medications/adherence/?days=7").json()["missed_reminders"] == 0
    statuses = lambda: {row["id"]: row["status"] for row in patient_client.get("/api/medications/reminders/").json()}  # noqa: E731
    assert statuses()[dose.pk] == "sent"
    sweep()  # closes the unanswered dose with a bulk UPDATE (no signal)
    assert Reminder.objects.get(pk=dose.pk).status == ReminderStatus.MISSED
    assert patient_client.get("/api/medications/adherence/?days=7").json()["missed_reminders"] == 1
    assert statuses()[dose.pk] == "missed"


@pytest.mark.django_db(transaction=True)
def test_a_bulk_write_replaces_the_version_once_outside_a_transaction_and_again_after_a_commit(patient):
    from unittest import mock

    from django.db import transaction

    from accounts import readcache

    before = readcache.data_version(patient.pk)
    with mock.patch.object(readcache, "bump_versions", wraps=readcache.bump_versions) as bumps:
        readcache.data_changed(patient.pk)  # autocommit: the write has committed already
        assert bumps.call_count == 1
        after_autocommit = readcache.data_version(patient.pk)
        with transaction.atomic():
            readcache.data_changed(patient.pk)
            assert bumps.call_count == 2
        assert bumps.call_count == 3  # once more after the commit
    assert len({before, after_autocommit, readcache.data_version(patient.pk)}) == 3
