"""Regimen fields on /api/medications/: every SPEC rule is a 400 naming the field, on POST, PUT
and PATCH (checked against the stored values); the database refuses what a constraint can say."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from medications.models import Frequency, Medication
from medications.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db
URL = "/api/medications/"


def payload(**overrides) -> dict:
    data = {
        "name": "Methotrexate",
        "dosage": "2.5 mg",
        "frequency": "once_daily",
        "start_date": str(timezone.now().date()),
    }
    data.update(overrides)
    return data


def create(client, **overrides):
    return client.post(URL, payload(**overrides), format="json")


def test_weekly_regimen_round_trip(patient_client):
    response = create(
        patient_client, days_of_week=["fri", "mon"], dose_quantity=2.5, dose_unit="tablet", frequency="twice_daily"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["days_of_week"] == ["mon", "fri"]  # week order
    assert body["dose_quantity"] == 2.5 and body["dose_unit"] == "tablet"
    assert body["reminder_times"] == ["08:00", "20:00"]
    assert Medication.objects.get().next_dose_at.astimezone(datetime.UTC).weekday() in (0, 4)


def test_interval_defaults_and_times(patient_client):
    response = create(patient_client, frequency="interval", interval_hours=8)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["interval_start"], body["interval_end"]) == ("08:00", "22:00")
    assert body["reminder_times"] == ["08:00", "16:00"]
    response = create(
        patient_client, frequency="interval", interval_hours=4, interval_start="06:30", interval_end="22:30"
    )
    assert response.json()["reminder_times"] == ["06:30", "10:30", "14:30", "18:30", "22:30"]


def test_taper_round_trip(patient_client):
    taper = [{"from_day": 0, "dose_quantity": 40}, {"from_day": 5, "dose_quantity": 2.5}]
    response = create(patient_client, taper=taper)
    assert response.status_code == 201, response.json()
    assert response.json()["taper"] == [{"from_day": 0, "dose_quantity": 40.0}, {"from_day": 5, "dose_quantity": 2.5}]
    assert Medication.objects.get().taper == [
        {"from_day": 0, "dose_quantity": 40.0},
        {"from_day": 5, "dose_quantity": 2.5},
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"days_of_week": ["mon"], "every_n_days": 2}, "every_n_days"),
        ({"days_of_week": ["mon"], "cycle_on_days": 21, "cycle_off_days": 7}, "cycle_on_days"),
        ({"every_n_days": 2, "cycle_on_days": 21, "cycle_off_days": 7}, "every_n_days"),
        ({"days_of_week": []}, "days_of_week"),
        ({"days_of_week": ["monday"]}, "days_of_week"),
        ({"days_of_week": ["mon", "mon"]}, "days_of_week"),
        ({"days_of_week": "mon"}, "days_of_week"),
        ({"every_n_days": 0}, "every_n_days"),
        ({"every_n_days": 366}, "every_n_days"),
        ({"every_n_days": None}, "every_n_days"),
        ({"every_n_days": "2"}, "every_n_days"),
        ({"cycle_on_days": 21}, "cycle_off_days"),
        ({"cycle_off_days": 7}, "cycle_on_days"),
        ({"cycle_on_days": 0, "cycle_off_days": 7}, "cycle_on_days"),
        ({"cycle_on_days": 21, "cycle_off_days": 366}, "cycle_off_days"),
        ({"frequency": "as_needed", "days_of_week": ["mon"]}, "days_of_week"),
        ({"frequency": "as_needed", "every_n_days": 2}, "every_n_days"),
        ({"frequency": "as_needed", "cycle_on_days": 1, "cycle_off_days": 1}, "cycle_on_days"),
        ({"frequency": "interval"}, "interval_hours"),
        ({"frequency": "interval", "interval_hours": 0}, "interval_hours"),
        ({"frequency": "interval", "interval_hours": 25}, "interval_hours"),
        ({"frequency": "interval", "interval_hours": 8, "interval_start": "8:00"}, "interval_start"),
        ({"frequency": "interval", "interval_hours": 8, "interval_end": "24:00"}, "interval_end"),
        (
            {"frequency": "interval", "interval_hours": 8, "interval_start": "20:00", "interval_end": "08:00"},
            "interval_end",
        ),
        ({"interval_hours": 8}, "interval_hours"),
        ({"interval_start": "08:00"}, "interval_start"),
        ({"frequency": "custom", "custom_schedule": ["08:00"], "interval_end": "20:00"}, "interval_end"),
        ({"dose_quantity": 0}, "dose_quantity"),
        ({"dose_quantity": -1}, "dose_quantity"),
        ({"dose_quantity": 0.0001}, "dose_quantity"),
        ({"dose_quantity": "1"}, "dose_quantity"),
        ({"dose_quantity": None}, "dose_quantity"),
        ({"dose_unit": ""}, "dose_unit"),
        ({"dose_unit": "x" * 33}, "dose_unit"),
        ({"dose_unit": "<b>pill"}, "dose_unit"),
        ({"taper": []}, "taper"),
        ({"taper": [{"from_day": 1, "dose_quantity": 2}]}, "taper"),
        ({"taper": [{"from_day": 0, "dose_quantity": 2}, {"from_day": 0, "dose_quantity": 1}]}, "taper"),
        (
            {
                "taper": [
                    {"from_day": 0, "dose_quantity": 2},
                    {"from_day": 9, "dose_quantity": 1},
                    {"from_day": 3, "dose_quantity": 1},
                ]
            },
            "taper",
        ),
        ({"taper": [{"from_day": 0, "dose_quantity": 0}]}, "taper"),
        ({"taper": [{"from_day": -1, "dose_quantity": 1}]}, "taper"),
        ({"taper": [{"from_day": "0", "dose_quantity": 1}]}, "taper"),
        ({"taper": [{"from_day": 0}]}, "taper"),
        ({"taper": {"from_day": 0, "dose_quantity": 1}}, "taper"),
        ({"frequency": "weekly"}, "frequency"),
    ],
)
def test_create_refuses_with_the_field_named(patient_client, overrides, field):
    response = create(patient_client, **overrides)
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Medication.objects.exists()


def test_put_refuses_too(patient_client, patient):
    medication = MedicationFactory(patient=patient)
    response = patient_client.put(
        f"{URL}{medication.pk}/", payload(every_n_days=2, days_of_week=["sun"]), format="json"
    )
    assert response.status_code == 400 and "every_n_days" in response.json()


@pytest.mark.parametrize(
    ("stored", "patch", "field"),
    [
        ({"days_of_week": ["mon"]}, {"every_n_days": 2}, "every_n_days"),
        ({"every_n_days": 3}, {"days_of_week": ["mon"]}, "days_of_week"),
        ({"cycle_on_days": 21, "cycle_off_days": 7}, {"cycle_off_days": None}, "cycle_off_days"),
        ({"cycle_on_days": 21, "cycle_off_days": 7}, {"every_n_days": 2}, "every_n_days"),
        (
            {
                "frequency": Frequency.INTERVAL,
                "interval_hours": 4,
                "interval_start": datetime.time(8),
                "interval_end": datetime.time(20),
            },
            {"interval_start": "21:00"},
            "interval_end",
        ),
        (
            {
                "frequency": Frequency.INTERVAL,
                "interval_hours": 4,
                "interval_start": datetime.time(8),
                "interval_end": datetime.time(20),
            },
            {"interval_hours": None},
            "interval_hours",
        ),
        ({}, {"interval_hours": 3}, "interval_hours"),
        ({"frequency": Frequency.AS_NEEDED}, {"days_of_week": ["mon"]}, "days_of_week"),
    ],
)
def test_patch_is_checked_against_stored_values(patient_client, patient, stored, patch, field):
    medication = MedicationFactory(patient=patient, **stored)
    response = patient_client.patch(f"{URL}{medication.pk}/", patch, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    medication.refresh_from_db()
    for key, value in stored.items():
        assert getattr(medication, key) == value


def test_patch_changing_frequency_clears_what_it_no_longer_takes(patient_client, patient):
    medication = MedicationFactory(
        patient=patient,
        frequency=Frequency.INTERVAL,
        interval_hours=6,
        interval_start=datetime.time(8),
        interval_end=datetime.time(20),
        days_of_week=["tue"],
    )
    response = patient_client.patch(f"{URL}{medication.pk}/", {"frequency": "once_daily"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["interval_hours"] is body["interval_start"] is body["interval_end"] is None
    assert body["days_of_week"] == ["tue"]  # a day rule applies to every timed frequency
    response = patient_client.patch(f"{URL}{medication.pk}/", {"frequency": "as_needed"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["days_of_week"] is None
    assert Medication.objects.get().next_dose_at is None


def test_patch_to_interval_takes_the_default_window(patient_client, patient):
    medication = MedicationFactory(patient=patient)
    response = patient_client.patch(
        f"{URL}{medication.pk}/", {"frequency": "interval", "interval_hours": 12}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["reminder_times"] == ["08:00", "20:00"]


def test_a_schedule_change_moves_next_dose_a_quantity_change_does_not(patient_client, patient):
    medication = patient_client.post(URL, payload(), format="json").json()
    before = Medication.objects.get().next_dose_at
    patient_client.patch(f"{URL}{medication['id']}/", {"dose_quantity": 3}, format="json")
    assert Medication.objects.get().next_dose_at == before
    patient_client.patch(f"{URL}{medication['id']}/", {"every_n_days": 7}, format="json")
    assert Medication.objects.get().every_n_days == 7


@pytest.mark.parametrize(
    "fields",
    [
        {"every_n_days": 0},
        {"every_n_days": 366},
        {"cycle_on_days": 21},
        {"cycle_on_days": 21, "cycle_off_days": 0},
        {"days_of_week": ["mon"], "every_n_days": 2},
        {"every_n_days": 2, "cycle_on_days": 1, "cycle_off_days": 1},
        {"frequency": Frequency.AS_NEEDED, "every_n_days": 2},
        {"frequency": Frequency.INTERVAL},
        {
            "frequency": Frequency.INTERVAL,
            "interval_hours": 25,
            "interval_start": datetime.time(8),
            "interval_end": datetime.time(9),
        },
        {
            "frequency": Frequency.INTERVAL,
            "interval_hours": 2,
            "interval_start": datetime.time(9),
            "interval_end": datetime.time(8),
        },
        {"frequency": Frequency.INTERVAL, "interval_hours": 2, "interval_start": datetime.time(9)},
        {"interval_hours": 2},
        {"dose_quantity": 0},
    ],
)
def test_database_constraints(fields):
    medication = MedicationFactory.build(patient=MedicationFactory().patient, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        medication.save()
