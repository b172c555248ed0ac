import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import DoctorFactory
from conftest import client_for
from medications.models import Reminder, ReminderStatus
from medications.tests.factories import MedicationFactory
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db


def url(pk: int) -> str:
    return f"/api/auth/patients/{pk}/"


def test_overview_contract(doctor_client, assigned_patient):
    today = assigned_patient.local_today()
    current = MedicationFactory(patient=assigned_patient, name="Metformin")
    MedicationFactory(patient=assigned_patient, is_active=False)
    for offset in range(25):
        day = today - datetime.timedelta(days=offset)
        SymptomFactory(patient=assigned_patient, date=day, related_medications=[current])
    for offset in range(35):
        MoodFactory(patient=assigned_patient, date=today - datetime.timedelta(days=offset))
    Reminder.objects.create(
        medication=current,
        patient=assigned_patient,
        scheduled_for=timezone.now() - datetime.timedelta(hours=5),
        status=ReminderStatus.TAKEN,
    )

    response = doctor_client.get(url(assigned_patient.pk))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"patient", "medications", "recent_symptoms", "recent_moods", "adherence"}
    assert body["patient"]["id"] == assigned_patient.pk
    assert body["patient"]["first_name"] == "Ann"
    assert [m["name"] for m in body["medications"]] == ["Metformin"]
    assert body["medications"][0]["is_current"] is True
    assert len(body["recent_symptoms"]) == 20
    assert body["recent_symptoms"][0]["date"] == today.isoformat()
    assert body["recent_symptoms"][0]["related_medications_details"][0]["name"] == "Metformin"
    assert len(body["recent_moods"]) == 30
    assert body["recent_moods"][0]["mood_display"] == "Good"
    assert body["adherence"]["adherence_rate"] == 100.0
    assert body["adherence"]["period"]["start"] == (today - datetime.timedelta(days=29)).isoformat()


def test_overview_scoping(doctor_client, assigned_patient, other_patient, other_doctor):
    assert doctor_client.get(url(other_patient.pk)).status_code == 404
    assert doctor_client.get(url(999_999)).status_code == 404
    assert client_for(other_doctor).get(url(assigned_patient.pk)).status_code == 404
    assert client_for(assigned_patient).get(url(assigned_patient.pk)).status_code == 403
    assert client_for(DoctorFactory(is_verified_doctor=False)).get(url(assigned_patient.pk)).status_code == 403
    assert doctor_client.post(url(assigned_patient.pk), {}, format="json").status_code == 405
    # The accounts list next to it still works.
    assert doctor_client.get("/api/auth/patients/").json()[0]["id"] == assigned_patient.pk


def test_overview_query_count_is_fixed(doctor_client, assigned_patient):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert doctor_client.get(url(assigned_patient.pk)).status_code == 200
        return len(captured)

    medication = MedicationFactory(patient=assigned_patient)
    SymptomFactory(patient=assigned_patient, related_medications=[medication])
    first = count()
    today = assigned_patient.local_today()
    for offset in range(1, 15):
        extra = MedicationFactory(patient=assigned_patient)
        day = today - datetime.timedelta(days=offset)
        SymptomFactory(patient=assigned_patient, date=day, related_medications=[extra])
        MoodFactory(patient=assigned_patient, date=today - datetime.timedelta(days=offset))
    assert count() == first
