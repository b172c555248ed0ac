import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications.tests.factories import MedicationFactory
from symptoms.models import Symptom
from symptoms.tests.factories import SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/dashboard/"


def test_dashboard_shape_and_values(patient, patient_client):
    today = patient.local_today()
    day = datetime.timedelta(days=1)
    SymptomFactory(patient=patient, name="Headache", severity=4, date=today - 2 * day)
    SymptomFactory(patient=patient, name="Headache", severity=5, date=today - 2 * day)
    SymptomFactory(patient=patient, name="headache", severity=6, date=today)
    SymptomFactory(patient=patient, name="Nausea", severity=2, date=today)
    SymptomFactory(patient=patient, name="Old", severity=9, date=today - 20 * day)  # outside 3 days, inside 30
    MedicationFactory(patient=patient)  # current
    MedicationFactory(patient=patient, is_active=False)
    MedicationFactory(patient=patient, start_date=today + day)  # upcoming
    MedicationFactory(patient=patient, start_date=today - 9 * day, end_date=today - day)  # ended

    body = patient_client.get(URL, {"days": 3}).json()
    assert set(body) == {"symptom_trends", "common_symptoms", "stats"}
    trends = body["symptom_trends"]
    assert trends["labels"] == [(today - n * day).isoformat() for n in (2, 1, 0)]
    assert [dataset["label"] for dataset in trends["datasets"]] == ["Average Severity", "Symptom Count"]
    assert trends["datasets"][0]["data"] == [4.5, None, 4.0]
    assert trends["datasets"][1]["data"] == [2, 0, 2]
    common = body["common_symptoms"]
    assert common["labels"] == ["Headache", "Nausea"]
    assert common["datasets"][0]["label"] == "Frequency"
    assert common["datasets"][0]["data"] == [3, 1]
    assert body["stats"] == {"active_medications": 1, "total_symptoms_logged": 5, "symptoms_last_7_days": 4}


def test_default_window_is_30_days_with_every_day(patient, patient_client):
    body = patient_client.get(URL).json()
    labels = body["symptom_trends"]["labels"]
    assert len(labels) == 30
    assert labels[-1] == patient.local_today().isoformat()
    assert body["symptom_trends"]["datasets"][0]["data"] == [None] * 30
    assert body["symptom_trends"]["datasets"][1]["data"] == [0] * 30
    assert body["common_symptoms"]["labels"] == []


def test_common_symptoms_are_the_top_five(patient, patient_client):
    for index, name in enumerate(["A", "B", "C", "D", "E", "F"]):
        for _ in range(index + 1):
            SymptomFactory(patient=patient, name=name)
    common = patient_client.get(URL, {"days": 7}).json()["common_symptoms"]
    assert common["labels"] == ["F", "E", "D", "C", "B"]
    assert common["datasets"][0]["data"] == [6, 5, 4, 3, 2]


def test_today_is_the_patients_today(freeze_now):
    freeze_now(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC))
    kiribati = PatientFactory(timezone="Pacific/Kiritimati")
    SymptomFactory(patient=kiribati, date=datetime.date(2026, 3, 11), severity=8)
    body = client_for(kiribati).get(URL, {"days": 2}).json()
    assert body["symptom_trends"]["labels"] == ["2026-03-10", "2026-03-11"]
    assert body["symptom_trends"]["datasets"][0]["data"] == [None, 8.0]
    assert body["stats"]["symptoms_last_7_days"] == 1


@pytest.mark.parametrize("days", ["abc", "-1", "0", "366", str(10**9), "2.5"])
def test_bad_days_is_a_400(patient_client, days):
    response = patient_client.get(URL, {"days": days})
    assert response.status_code == 400
    assert "days" in response.json()


def test_doctor_access(doctor_client, assigned_patient, other_patient):
    SymptomFactory(patient=assigned_patient)
    assert doctor_client.get(URL).status_code == 400
    response = doctor_client.get(URL, {"patient": assigned_patient.pk})
    assert response.status_code == 200
    assert response.json()["stats"]["total_symptoms_logged"] == 1
    assert doctor_client.get(URL, {"patient": other_patient.pk}).status_code == 404
    assert doctor_client.post(URL, {}, format="json").status_code == 403
    assert client_for(other_patient).get(URL, {"patient": assigned_patient.pk}).status_code == 404


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured)


def test_query_count_is_the_same_for_1_and_1000_symptoms(patient, patient_client):
    MedicationFactory(patient=patient)
    SymptomFactory(patient=patient)
    with_one = _queries(patient_client, {"days": 365})
    today = patient.local_today()
    Symptom.objects.bulk_create(
        Symptom(
            patient=patient,
            name=f"Symptom {index % 12}",
            severity=index % 10 + 1,
            date=today - datetime.timedelta(days=index % 365),
        )
        for index in range(999)
    )
    assert Symptom.objects.filter(patient=patient).count() == 1000
    assert _queries(patient_client, {"days": 365}) == with_one
    # user, daily trend, common symptoms, totals, current medications.
    assert with_one == 5
