import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from medications.tests.factories import MedicationFactory
from symptoms.models import Symptom
from symptoms.tests.factories import SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/symptoms/"


def detail(pk: int) -> str:
    return f"{URL}{pk}/"


# --- Contract ---------------------------------------------------------------------------------


def test_create_returns_the_symptom_object(patient, patient_client):
    medication = MedicationFactory(patient=patient, name="Ibuprofen", dosage="200 mg")
    today = patient.local_today().isoformat()
    response = patient_client.post(
        URL,
        {
            "name": "Headache",
            "severity": 6,
            "notes": "after lunch",
            "date": today,
            "related_medications": [medication.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "patient",
        "name",
        "severity",
        "notes",
        "date",
        "logged_at",
        "related_medications",
        "related_medications_details",
    }
    assert body["patient"] == patient.pk
    assert body["date"] == today
    assert body["related_medications"] == [medication.pk]
    assert body["related_medications_details"] == [{"id": medication.pk, "name": "Ibuprofen", "dosage": "200 mg"}]
    assert Symptom.objects.get(pk=body["id"]).related_medications.get() == medication


def test_date_defaults_to_the_patients_local_today(patient, patient_client):
    response = patient_client.post(URL, {"name": "Nausea", "severity": 3}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["date"] == patient.local_today().isoformat()


def test_list_is_a_plain_array_newest_first(patient, patient_client):
    today = patient.local_today()
    older = SymptomFactory(patient=patient, date=today - datetime.timedelta(days=2))
    newer = SymptomFactory(patient=patient, date=today)
    response = patient_client.get(URL)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [newer.pk, older.pk]


def test_list_is_paginated_only_on_request(patient, patient_client):
    SymptomFactory.create_batch(3, patient=patient)
    body = patient_client.get(URL, {"limit": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2


def test_update_and_delete(patient, patient_client):
    symptom = SymptomFactory(patient=patient, severity=2)
    response = patient_client.patch(detail(symptom.pk), {"severity": 8}, format="json")
    assert response.status_code == 200 and response.json()["severity"] == 8
    medication = MedicationFactory(patient=patient)
    response = patient_client.put(
        detail(symptom.pk),
        {"name": "Dizziness", "severity": 4, "date": symptom.date.isoformat(), "related_medications": [medication.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["related_medications"] == [medication.pk]
    assert response.json()["related_medications_details"][0]["id"] == medication.pk
    assert patient_client.delete(detail(symptom.pk)).status_code == 204
    assert not Symptom.objects.filter(pk=symptom.pk).exists()


def test_trailing_slash_is_optional(patient, patient_client):
    symptom = SymptomFactory(patient=patient)
    assert patient_client.get(URL.rstrip("/")).status_code == 200
    assert patient_client.get(detail(symptom.pk).rstrip("/")).status_code == 200
    response = patient_client.post(URL.rstrip("/"), {"name": "Cough", "severity": 2}, format="json")
    assert response.status_code == 201


# --- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Headache", "severity": 0}, "severity"),
        ({"name": "Headache", "severity": 11}, "severity"),
        ({"name": "Headache", "severity": "bad"}, "severity"),
        ({"severity": 4}, "name"),
        ({"name": "<img src=x onerror=alert(1)>", "severity": 4}, "name"),
        ({"name": "Headache", "severity": 4, "notes": "<script>"}, "notes"),
        ({"name": "Headache", "severity": 4, "date": "2026-13-40"}, "date"),
        ({"name": "Headache", "severity": 4, "related_medications": ["x"]}, "related_medications"),
        ({"name": "Headache", "severity": 4, "related_medications": 5}, "related_medications"),
    ],
)
def test_invalid_input_is_a_400(patient_client, body, field):
    response = patient_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_html_message(patient_client):
    response = patient_client.post(URL, {"name": "<b>x</b>", "severity": 3}, format="json")
    assert response.json()["name"] == ["HTML tags are not allowed in this field."]


def test_future_date_is_rejected(patient, patient_client):
    tomorrow = (patient.local_today() + datetime.timedelta(days=1)).isoformat()
    response = patient_client.post(URL, {"name": "Headache", "severity": 4, "date": tomorrow}, format="json")
    assert response.status_code == 400
    assert "date" in response.json()
    symptom = SymptomFactory(patient=patient)
    assert patient_client.patch(detail(symptom.pk), {"date": tomorrow}, format="json").status_code == 400


def test_another_users_medication_is_rejected_like_a_missing_one(patient, patient_client, other_patient):
    foreign = MedicationFactory(patient=other_patient)
    missing_id = foreign.pk + 1000
    foreign_response = patient_client.post(
        URL, {"name": "Headache", "severity": 4, "related_medications": [foreign.pk]}, format="json"
    )
    missing_response = patient_client.post(
        URL, {"name": "Headache", "severity": 4, "related_medications": [missing_id]}, format="json"
    )
    assert foreign_response.status_code == missing_response.status_code == 400
    message = foreign_response.json()["related_medications"][0]
    assert message == missing_response.json()["related_medications"][0].replace(str(missing_id), str(foreign.pk))
    assert not Symptom.objects.exists()


def test_foreign_medication_on_update_is_rejected(patient, patient_client, other_patient):
    symptom = SymptomFactory(patient=patient)
    foreign = MedicationFactory(patient=other_patient)
    response = patient_client.patch(detail(symptom.pk), {"related_medications": [foreign.pk]}, format="json")
    assert response.status_code == 400
    assert not symptom.related_medications.exists()


# --- Time zones -------------------------------------------------------------------------------


def test_patient_at_utc_plus_14_logs_their_today(freeze_now):
    # 11:00 UTC on 10 March is already 01:00 on 11 March in Kiribati (UTC+14).
    freeze_now(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC))
    kiribati = PatientFactory(timezone="Pacific/Kiritimati")
    client = client_for(kiribati)
    response = client.post(URL, {"name": "Jet lag", "severity": 3, "date": "2026-03-11"}, format="json")
    assert response.status_code == 201, response.json()
    assert client.post(URL, {"name": "Jet lag", "severity": 3}, format="json").json()["date"] == "2026-03-11"
    assert client.post(URL, {"name": "Jet lag", "severity": 3, "date": "2026-03-12"}, format="json").status_code == 400
    # The same instant is still 10 March in Honolulu (UTC-10): 11 March is in the future there.
    honolulu = client_for(PatientFactory(timezone="Pacific/Honolulu"))
    assert honolulu.post(URL, {"name": "Cough", "severity": 3, "date": "2026-03-11"}, format="json").status_code == 400
    assert honolulu.post(URL, {"name": "Cough", "severity": 3, "date": "2026-03-10"}, format="json").status_code == 201


def test_last_seven_days_uses_the_patients_time_zone(freeze_now):
    freeze_now(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC))
    kiribati = PatientFactory(timezone="Pacific/Kiritimati")  # local today: 2026-03-11
    inside = [SymptomFactory(patient=kiribati, date=datetime.date(2026, 3, day)) for day in (5, 8, 11)]
    SymptomFactory(patient=kiribati, date=datetime.date(2026, 3, 4))  # eight days ago
    response = client_for(kiribati).get(f"{URL}last_seven_days/")
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()) == sorted(s.pk for s in inside)


# --- Filters, search, ordering ----------------------------------------------------------------


def test_filters_search_and_ordering(patient, patient_client):
    today = patient.local_today()
    day = datetime.timedelta(days=1)
    a = SymptomFactory(patient=patient, name="Headache", severity=7, date=today - 3 * day, notes="throbbing")
    b = SymptomFactory(patient=patient, name="headache", severity=2, date=today - day)
    c = SymptomFactory(patient=patient, name="Nausea", severity=7, date=today)

    def ids(**params):
        response = patient_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()]

    assert ids(name="HEADACHE") == [b.pk, a.pk]
    assert ids(severity=7) == [c.pk, a.pk]
    assert ids(date=(today - day).isoformat()) == [b.pk]
    assert ids(date_after=(today - 2 * day).isoformat()) == [c.pk, b.pk]
    assert ids(date_before=(today - day).isoformat()) == [b.pk, a.pk]
    assert ids(search="throb") == [a.pk]
    assert ids(search="nause") == [c.pk]
    assert ids(ordering="severity")[0] == b.pk
    assert ids(ordering="date") == [a.pk, b.pk, c.pk]
    assert ids(ordering="-severity,date") == [a.pk, c.pk, b.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"severity": "abc"},
        {"severity": "11"},
        {"severity": "2.5"},
        {"date": "yesterday"},
        {"date_after": "2026-02-30"},
        {"date_after": "2026-03-10", "date_before": "2026-03-01"},
        {"ordering": "password"},
        {"ordering": "-patient__email"},
        {"patient": "abc"},
        {"limit": "x"},
    ],
)
def test_bad_query_parameters_are_400(patient_client, params):
    response = patient_client.get(URL, params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")


# --- summary and by_medication ----------------------------------------------------------------


def test_summary_most_frequent_first(patient, patient_client):
    today = patient.local_today()
    for severity in (4, 5, 5):
        SymptomFactory(patient=patient, name="Headache", severity=severity, date=today)
    SymptomFactory(patient=patient, name="headache", severity=6, date=today - datetime.timedelta(days=40))
    SymptomFactory(patient=patient, name="Nausea", severity=3, date=today - datetime.timedelta(days=1))
    body = patient_client.get(f"{URL}summary/").json()
    assert body == [
        {"symptom_name": "Headache", "count": 4, "avg_severity": 5.0, "last_occurrence": today.isoformat()},
        {
            "symptom_name": "Nausea",
            "count": 1,
            "avg_severity": 3.0,
            "last_occurrence": (today - datetime.timedelta(days=1)).isoformat(),
        },
    ]
    recent = patient_client.get(f"{URL}summary/", {"days": 7}).json()
    assert recent[0] == {
        "symptom_name": "Headache",
        "count": 3,
        "avg_severity": 4.7,
        "last_occurrence": today.isoformat(),
    }


@pytest.mark.parametrize("days", ["abc", "-1", "0", "366", str(10**9), "1.5"])
def test_summary_rejects_bad_days(patient_client, days):
    assert patient_client.get(f"{URL}summary/", {"days": days}).status_code == 400


def test_by_medication(patient, patient_client, other_patient):
    medication = MedicationFactory(patient=patient)
    linked = SymptomFactory(patient=patient, related_medications=[medication])
    SymptomFactory(patient=patient)
    response = patient_client.get(f"{URL}by_medication/", {"medication_id": medication.pk})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [linked.pk]
    assert patient_client.get(f"{URL}by_medication/").status_code == 400
    assert patient_client.get(f"{URL}by_medication/", {"medication_id": "xyz"}).status_code == 400
    assert patient_client.get(f"{URL}by_medication/", {"medication_id": "-3"}).status_code == 400
    foreign = MedicationFactory(patient=other_patient)
    assert patient_client.get(f"{URL}by_medication/", {"medication_id": foreign.pk}).status_code == 404
    assert patient_client.get(f"{URL}by_medication/", {"medication_id": foreign.pk + 999}).status_code == 404


# --- Scoping matrix ---------------------------------------------------------------------------


def test_scoping_matrix(doctor, doctor_client, assigned_patient, other_patient, other_doctor):
    symptom = SymptomFactory(patient=assigned_patient)
    owner = client_for(assigned_patient)
    stranger_doctor = client_for(other_doctor)
    other = client_for(other_patient)
    unverified = client_for(DoctorFactory(is_verified_doctor=False))

    # Reads: owner and assigned doctor 200; others 404 (or 403 for an unverified doctor).
    assert owner.get(detail(symptom.pk)).status_code == 200
    assert doctor_client.get(detail(symptom.pk)).status_code == 200
    assert stranger_doctor.get(detail(symptom.pk)).status_code == 404
    assert other.get(detail(symptom.pk)).status_code == 404
    assert unverified.get(detail(symptom.pk)).status_code == 403
    assert other.get(URL).json() == []
    assert stranger_doctor.get(URL).json() == []

    # Writes: the assigned doctor is read-only (403); another patient cannot see it (404).
    assert doctor_client.patch(detail(symptom.pk), {"severity": 1}, format="json").status_code == 403
    assert doctor_client.delete(detail(symptom.pk)).status_code == 403
    assert doctor_client.post(URL, {"name": "x", "severity": 1}, format="json").status_code == 403
    assert other.patch(detail(symptom.pk), {"severity": 1}, format="json").status_code == 404
    assert other.delete(detail(symptom.pk)).status_code == 404
    symptom.refresh_from_db()
    assert symptom.severity == 5


def test_doctor_lists(doctor, doctor_client, assigned_patient, other_patient):
    second = PatientFactory(assigned_doctor=doctor)
    mine = SymptomFactory(patient=assigned_patient)
    theirs = SymptomFactory(patient=second)
    SymptomFactory(patient=other_patient)
    # Without ?patient=: every assigned patient's rows.
    assert {row["id"] for row in doctor_client.get(URL).json()} == {mine.pk, theirs.pk}
    # With ?patient=: one patient; an unassigned one is a 404.
    assert [row["id"] for row in doctor_client.get(URL, {"patient": assigned_patient.pk}).json()] == [mine.pk]
    assert doctor_client.get(URL, {"patient": other_patient.pk}).status_code == 404
    # Per-patient views need ?patient= (400 without).
    assert doctor_client.get(f"{URL}last_seven_days/").status_code == 400
    assert doctor_client.get(f"{URL}summary/").status_code == 400
    response = doctor_client.get(f"{URL}last_seven_days/", {"patient": assigned_patient.pk})
    assert [row["id"] for row in response.json()] == [mine.pk]
    assert doctor_client.get(f"{URL}summary/", {"patient": assigned_patient.pk}).json()[0]["count"] == 1
    assert doctor_client.get(f"{URL}summary/", {"patient": other_patient.pk}).status_code == 404
    medication = MedicationFactory(patient=assigned_patient)
    mine.related_medications.set([medication])
    response = doctor_client.get(f"{URL}by_medication/", {"medication_id": medication.pk})
    assert [row["id"] for row in response.json()] == [mine.pk]


def test_patient_cannot_name_another_patient(patient_client, other_patient):
    assert patient_client.get(URL, {"patient": other_patient.pk}).status_code == 404
    assert patient_client.get(f"{URL}summary/", {"patient": other_patient.pk}).status_code == 404


def test_anonymous_is_401(anon):
    assert anon.get(URL).status_code == 401
    assert anon.post(URL, {"name": "x", "severity": 1}, format="json").status_code == 401


# --- Query counts -----------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("path", ["", "last_seven_days/", "summary/"])
def test_list_query_count_does_not_grow(patient, patient_client, path):
    medication = MedicationFactory(patient=patient)
    SymptomFactory(patient=patient, related_medications=[medication])
    one = _count_queries(patient_client, f"{URL}{path}")
    for index in range(30):
        SymptomFactory(patient=patient, name=f"S{index % 4}", related_medications=[MedicationFactory(patient=patient)])
    assert _count_queries(patient_client, f"{URL}{path}") == one


def test_list_queries_pinned(patient, patient_client, django_assert_num_queries):
    for _ in range(5):
        SymptomFactory(patient=patient, related_medications=[MedicationFactory(patient=patient)])
    # user, symptoms, prefetch of related medications.
    with django_assert_num_queries(3):
        assert len(patient_client.get(URL).json()) == 5
    with django_assert_num_queries(3):
        assert len(patient_client.get(f"{URL}last_seven_days/").json()) == 5
    with django_assert_num_queries(2):
        patient_client.get(f"{URL}summary/")


def test_by_medication_query_count(patient, patient_client, django_assert_num_queries):
    medication = MedicationFactory(patient=patient)
    for _ in range(5):
        SymptomFactory(patient=patient, related_medications=[medication])
    # user, medication, symptoms, prefetch.
    with django_assert_num_queries(4):
        assert len(patient_client.get(f"{URL}by_medication/", {"medication_id": medication.pk}).json()) == 5
