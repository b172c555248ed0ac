"""Every date and datetime the API accepts is within 1900-01-01 … 2100-12-31, and every datetime
carries its UTC offset: anything else is a 400 naming the field, never a 500."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from conftest import client_for
from core.validators import DATE_OUT_OF_RANGE, NAIVE_DATETIME
from medications.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"]


def medication_body(**overrides):
    return {"name": "Metformin", "dosage": "500 mg", "frequency": "once_daily", "start_date": "2026-01-01", **overrides}


@pytest.mark.parametrize("day", OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("/api/medications/", "start_date", medication_body),
        ("/api/medications/", "end_date", medication_body),
        ("/api/symptoms/", "date", lambda **kw: {"name": "Headache", "severity": 5, **kw}),
        ("/api/moods/", "date", lambda **kw: {"mood": 3, **kw}),
    ],
)
def test_out_of_range_dates_in_bodies_are_400(patient_client, path, field, body, day):
    response = patient_client.post(path, body(**{field: day}), format="json")
    assert response.status_code == 400
    assert response.json()[field] == [DATE_OUT_OF_RANGE]


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_out_of_range_birth_dates_are_400(patient_client, anon, day):
    response = patient_client.patch("/api/auth/profile/", {"date_of_birth": day}, format="json")
    assert response.status_code == 400 and response.json()["date_of_birth"] == [DATE_OUT_OF_RANGE]
    body = {"username": "dora", "email": "dora@example.test", "password": PASSWORD, "date_of_birth": day}
    response = anon.post("/api/auth/register/", body, format="json")
    assert response.status_code == 400 and response.json()["date_of_birth"] == [DATE_OUT_OF_RANGE]


def test_the_range_ends_are_accepted(patient_client):
    response = patient_client.post(
        "/api/medications/", medication_body(start_date="1900-01-01", end_date="2100-12-31"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert patient_client.patch("/api/auth/profile/", {"date_of_birth": "1900-01-01"}, format="json").status_code == 200


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize(
    "taken_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2101-01-01T00:00Z"]
)
def test_year_one_taken_at_is_a_400_in_every_zone(zone, taken_at):
    patient = PatientFactory(timezone=zone)
    medication = MedicationFactory(patient=patient)
    response = client_for(patient).post(
        f"/api/medications/{medication.pk}/doses/", {"taken_at": taken_at}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["taken_at"] == [DATE_OUT_OF_RANGE]


@pytest.mark.parametrize("naive", ["2026-01-02T08:00:00", "2026-01-02T08:00", "2026-01-02 08:00:00"])
def test_naive_taken_at_is_a_400(patient_client, patient, naive):
    medication = MedicationFactory(patient=patient)
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {"taken_at": naive}, format="json")
    assert response.status_code == 400
    assert response.json()["taken_at"] == [NAIVE_DATETIME]


@pytest.mark.parametrize("offset", ["Z", "+01:00", "-08:00"])
def test_taken_at_with_an_offset_is_accepted(patient_client, patient, offset):
    medication = MedicationFactory(patient=patient)
    yesterday = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = patient_client.post(
        f"/api/medications/{medication.pk}/doses/", {"taken_at": yesterday + offset}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (path, query)
        for path in ("/api/symptoms/", "/api/moods/", "/api/medications/reminders/")
        for query in ("date_after=0001-01-01", "date_before=9999-12-31", "date=2101-01-01")
        if not (path.endswith("reminders/") and query.startswith("date="))  # no exact-date filter there
    ],
)
def test_out_of_range_query_dates_are_400(path, query):
    client = client_for(PatientFactory(timezone="America/Los_Angeles"))
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.json()[query.split("=")[0]] == [DATE_OUT_OF_RANGE]


@pytest.mark.parametrize("day", ["1899-12-31", "2101-01-01"])
def test_the_models_refuse_out_of_range_dates_too(patient, day):
    """What the admin (a ModelForm: the model's validators) writes is held to the same range."""
    from medications.models import Medication
    from symptoms.models import Mood, Symptom

    value = datetime.date.fromisoformat(day)
    cases = [
        (patient, "date_of_birth"),
        (Medication(patient=patient, name="M", dosage="1", start_date=datetime.date(2026, 1, 1)), "start_date"),
        (Medication(patient=patient, name="M", dosage="1", start_date=datetime.date(2026, 1, 1)), "end_date"),
        (Symptom(patient=patient, name="Headache", severity=5, date=datetime.date(2026, 1, 1)), "date"),
        (Mood(patient=patient, mood=3, date=datetime.date(2026, 1, 1)), "date"),
    ]
    for instance, field in cases:
        setattr(instance, field, value)
        with pytest.raises(ValidationError) as refused:
            instance.clean_fields(exclude=[f.name for f in type(instance)._meta.fields if f.name != field])
        assert refused.value.message_dict[field] == [DATE_OUT_OF_RANGE], (type(instance).__name__, field)
