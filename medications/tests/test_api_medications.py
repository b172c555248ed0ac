"""/api/medications/: CRUD, validation, filters, scoping, query counts."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from conftest import client_for
from medications.models import Frequency, Medication
from medications.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db
URL = "/api/medications/"


def detail(medication) -> str:
    return f"{URL}{medication.pk}/"


def today() -> datetime.date:
    return timezone.now().date()


def payload(**overrides) -> dict:
    data = {
        "name": "Metformin",
        "dosage": "500 mg",
        "frequency": "custom",
        "custom_schedule": ["20:00", "08:30"],
        "start_date": str(today()),
        "notes": "with food",
    }
    data.update(overrides)
    return data


@pytest.fixture
def assigned(doctor):
    return PatientFactory(assigned_doctor=doctor)


def test_create_returns_computed_fields_and_schedules_the_next_dose(patient_client, patient):
    response = patient_client.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["patient"] == patient.pk
    assert body["custom_schedule"] == ["08:30", "20:00"]  # stored sorted
    assert body["reminder_times"] == ["08:30", "20:00"]
    assert body["is_current"] is True
    assert set(body) == {
        "id", "patient", "name", "dosage", "frequency", "custom_schedule", "reminder_times", "start_date",
        "end_date", "notes", "is_active", "is_current", "created_at", "updated_at",
        "days_of_week", "every_n_days", "cycle_on_days", "cycle_off_days", "interval_hours", "interval_start",
        "interval_end", "dose_quantity", "dose_unit", "taper",
        "stock_quantity", "refill_threshold_days", "days_of_supply", "runs_out_on",
    }  # fmt: skip
    assert body["every_n_days"] == 1 and body["dose_quantity"] == 1.0 and body["dose_unit"] == "dose"
    assert body["days_of_week"] is body["taper"] is body["interval_hours"] is body["interval_start"] is None
    medication = Medication.objects.get(pk=body["id"])
    assert medication.next_dose_at is not None and medication.next_dose_at > timezone.now()


@pytest.mark.parametrize(
    ("frequency", "times"),
    [
        ("once_daily", ["08:00"]),
        ("twice_daily", ["08:00", "20:00"]),
        ("three_times_daily", ["08:00", "14:00", "20:00"]),
    ],
)
def test_fixed_frequencies_have_fixed_times(patient_client, frequency, times):
    response = patient_client.post(URL, payload(frequency=frequency, custom_schedule=None), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["reminder_times"] == times and response.json()["custom_schedule"] == []


def test_as_needed_has_no_reminders(patient_client):
    response = patient_client.post(URL, payload(frequency="as_needed", custom_schedule=[]), format="json")
    assert response.status_code == 201
    assert response.json()["reminder_times"] == []
    assert Medication.objects.get().next_dose_at is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"custom_schedule": []}, "custom_schedule"),
        ({"custom_schedule": None}, "custom_schedule"),
        ({"custom_schedule": ["8:00"]}, "custom_schedule"),
        ({"custom_schedule": ["24:00"]}, "custom_schedule"),
        ({"custom_schedule": ["08:00", "08:00"]}, "custom_schedule"),
        ({"custom_schedule": [f"{h:02d}:00" for h in range(13)]}, "custom_schedule"),
        ({"custom_schedule": "08:00"}, "custom_schedule"),
        ({"frequency": "once_daily", "custom_schedule": ["08:00"]}, "custom_schedule"),
        ({"frequency": "hourly"}, "frequency"),
        ({"name": "<img src=x onerror=alert(1)>"}, "name"),
        ({"notes": "<b>bold"}, "notes"),
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"start_date": "not-a-date"}, "start_date"),
    ],
)
def test_create_validation(patient_client, overrides, field):
    response = patient_client.post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Medication.objects.count() == 0


def test_patch_checks_end_date_against_stored_start(patient_client, patient):
    medication = MedicationFactory(patient=patient, start_date=today())
    day = datetime.timedelta(days=1)
    response = patient_client.patch(detail(medication), {"end_date": str(today() - day)}, format="json")
    assert response.status_code == 400 and "end_date" in response.json()
    response = patient_client.patch(detail(medication), {"start_date": str(today() + 5 * day)}, format="json")
    assert response.status_code == 200
    medication.end_date = today() + datetime.timedelta(days=2)
    medication.save()
    response = patient_client.patch(detail(medication), {"start_date": str(today() + 3 * day)}, format="json")
    assert response.status_code == 400 and "end_date" in response.json()


def test_patch_custom_to_fixed_clears_schedule_and_owner_never_changes(patient_client, patient):
    other = PatientFactory()
    created = patient_client.post(URL, payload(), format="json").json()
    response = patient_client.patch(
        f"{URL}{created['id']}/", {"frequency": "once_daily", "patient": other.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["custom_schedule"] == [] and response.json()["reminder_times"] == ["08:00"]
    assert response.json()["patient"] == patient.pk
    response = patient_client.put(f"{URL}{created['id']}/", payload(patient=other.pk), format="json")
    assert response.status_code == 200 and response.json()["patient"] == patient.pk


def test_deactivating_stops_reminders_and_reactivating_resumes(patient_client, patient):
    created = patient_client.post(URL, payload(), format="json").json()
    patient_client.patch(f"{URL}{created['id']}/", {"is_active": False}, format="json")
    assert Medication.objects.get().next_dose_at is None
    patient_client.patch(f"{URL}{created['id']}/", {"is_active": True}, format="json")
    assert Medication.objects.get().next_dose_at is not None


def test_delete(patient_client, patient):
    medication = MedicationFactory(patient=patient)
    assert patient_client.delete(detail(medication)).status_code == 204
    assert not Medication.objects.exists()


def test_stranger_gets_404_everywhere(patient_client):
    medication = MedicationFactory()
    assert patient_client.get(detail(medication)).status_code == 404
    assert patient_client.patch(detail(medication), {"name": "x"}, format="json").status_code == 404
    assert patient_client.delete(detail(medication)).status_code == 404
    assert patient_client.post(f"{detail(medication)}doses/", {}).status_code == 404
    assert patient_client.get(URL).json() == []


def test_doctor_reads_assigned_patients_only_and_never_writes(doctor_client, assigned):
    mine = MedicationFactory(patient=assigned)
    other = MedicationFactory()
    assert [m["id"] for m in doctor_client.get(URL).json()] == [mine.pk]
    assert doctor_client.get(f"{URL}?patient={assigned.pk}").status_code == 200
    assert doctor_client.get(f"{URL}?patient={other.patient.pk}").status_code == 404
    assert doctor_client.get(f"{URL}?patient=abc").status_code == 400
    assert doctor_client.get(detail(mine)).status_code == 200
    assert doctor_client.get(detail(other)).status_code == 404
    assert doctor_client.post(URL, payload(), format="json").status_code == 403
    assert doctor_client.patch(detail(mine), {"name": "x"}, format="json").status_code == 403
    assert doctor_client.delete(detail(mine)).status_code == 403
    assert doctor_client.post(f"{detail(mine)}doses/", {}).status_code == 403


def test_unverified_doctor_sees_nothing(assigned):
    doctor = assigned.assigned_doctor
    doctor.is_verified_doctor = False
    doctor.save()
    MedicationFactory(patient=assigned)
    assert client_for(doctor).get(URL).status_code == 403


def test_anonymous_is_401(anon):
    assert anon.get(URL).status_code == 401


def test_filters_search_ordering(patient_client, patient):
    a = MedicationFactory(patient=patient, name="Aspirin", dosage="81 mg", frequency=Frequency.ONCE_DAILY)
    b = MedicationFactory(patient=patient, name="Zinc", dosage="50 mg", frequency=Frequency.AS_NEEDED, is_active=False)
    c = MedicationFactory(patient=patient, name="Metformin", dosage="500 mg", frequency=Frequency.ONCE_DAILY)

    def ids(query):
        response = patient_client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()]

    assert ids("") == [c.pk, b.pk, a.pk]  # newest first
    assert ids("is_active=false") == [b.pk]
    assert ids("frequency=once_daily&ordering=name") == [a.pk, c.pk]
    assert ids("search=81") == [a.pk]
    assert ids("search=zin") == [b.pk]
    assert ids("ordering=-name") == [b.pk, c.pk, a.pk]
    for bad in ("is_active=maybe", "frequency=hourly", "ordering=patient", "ordering=-notes", "limit=abc"):
        assert patient_client.get(f"{URL}?{bad}").status_code == 400, bad


def test_pagination_is_opt_in(patient_client, patient):
    MedicationFactory.create_batch(3, patient=patient)
    assert isinstance(patient_client.get(URL).json(), list)
    page = patient_client.get(f"{URL}?limit=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2


def test_current_and_upcoming_use_the_patients_local_today(patient_client, patient):
    current = MedicationFactory(patient=patient, start_date=today() - datetime.timedelta(days=3))
    ended = MedicationFactory(
        patient=patient,
        start_date=today() - datetime.timedelta(days=10),
        end_date=today() - datetime.timedelta(days=2),
    )
    upcoming = MedicationFactory(patient=patient, start_date=today() + datetime.timedelta(days=3))
    MedicationFactory(patient=patient, start_date=today() + datetime.timedelta(days=3), is_active=False)
    MedicationFactory()  # someone else's
    assert [m["id"] for m in patient_client.get(f"{URL}current/").json()] == [current.pk]
    assert [m["id"] for m in patient_client.get(f"{URL}upcoming/").json()] == [upcoming.pk]
    assert patient_client.get(detail(ended)).json()["is_current"] is False


def test_current_in_a_zone_where_tomorrow_has_started():
    # Kiritimati is UTC+14: when it is 12:00 UTC there it is already tomorrow.
    patient = PatientFactory(timezone="Pacific/Kiritimati")
    local_today = patient.local_today()
    starts_local_today = MedicationFactory(patient=patient, start_date=local_today)
    body = client_for(patient).get(f"{URL}current/").json()
    assert [m["id"] for m in body] == [starts_local_today.pk] and body[0]["is_current"] is True


def test_doctor_current_across_patients_in_different_zones(doctor_client, doctor):
    east = PatientFactory(assigned_doctor=doctor, timezone="Pacific/Kiritimati")
    west = PatientFactory(assigned_doctor=doctor, timezone="Pacific/Pago_Pago")
    a = MedicationFactory(patient=east, start_date=east.local_today())
    b = MedicationFactory(patient=west, start_date=west.local_today())
    MedicationFactory(patient=west, start_date=west.local_today() + datetime.timedelta(days=1))
    assert {m["id"] for m in doctor_client.get(f"{URL}current/").json()} == {a.pk, b.pk}
    assert [m["id"] for m in doctor_client.get(f"{URL}current/?patient={east.pk}").json()] == [a.pk]


def test_list_query_count_is_constant(patient_client, patient, django_assert_num_queries):
    MedicationFactory.create_batch(5, patient=patient)
    with django_assert_num_queries(2):  # auth user, medications joined with their owner
        assert len(patient_client.get(URL).json()) == 5
    MedicationFactory.create_batch(5, patient=patient)
    with django_assert_num_queries(2):
        assert len(patient_client.get(f"{URL}current/").json()) == 10


def test_doctor_list_query_count(doctor_client, doctor, django_assert_num_queries):
    for _ in range(3):
        MedicationFactory.create_batch(2, patient=PatientFactory(assigned_doctor=doctor))
    with django_assert_num_queries(3):  # auth + the list + the audit-trail insert
        assert len(doctor_client.get(URL).json()) == 6
    with django_assert_num_queries(3):  # + the distinct zones of the patients (nothing read: no audit row)
        assert len(doctor_client.get(f"{URL}upcoming/").json()) == 0


def test_trailing_slash_optional(patient_client, patient):
    medication = MedicationFactory(patient=patient)
    assert patient_client.get(f"{URL}{medication.pk}").status_code == 200
    assert patient_client.post(URL.rstrip("/"), payload(), format="json").status_code == 201
    assert patient_client.get(f"{URL}current").status_code == 200


def test_detail_read_is_one_query_and_answers_as_the_scoped_queryset(
    doctor_client, doctor, assigned, django_assert_num_queries
):
    """A patient's (or a doctor's ?patient=) read of one medication is the subject patient's row,
    by a prepared query; the JSON is what DRF's get_object path (a doctor naming no patient)
    writes, and a 404 says the same words."""
    medication = MedicationFactory(patient=PatientFactory(timezone="Pacific/Kiritimati"))
    owner = medication.patient
    owner.assigned_doctor = doctor
    owner.save()
    with django_assert_num_queries(2):  # auth user, the medication
        own = client_for(owner).get(detail(medication))
    assert own.status_code == 200
    through_queryset = doctor_client.get(detail(medication))  # no ?patient=: DRF's get_object
    named = doctor_client.get(f"{detail(medication)}?patient={owner.pk}")
    assert own.content == through_queryset.content == named.content
    assert own.json()["is_current"] is True  # today in Kiritimati (UTC+14), the owner's zone
    assert own.json() == client_for(owner).get(URL).json()[0]

    stranger = MedicationFactory(patient=assigned)  # assigned to the doctor, not to the owner
    missing = client_for(owner).get(detail(stranger))
    assert missing.status_code == 404
    assert missing.content == doctor_client.get(f"{URL}{stranger.pk + 1000}/").content
    assert missing.json() == {"detail": "No Medication matches the given query."}
    assert doctor_client.get(f"{detail(stranger)}?patient={owner.pk}").status_code == 404


def test_plain_list_answers_as_the_filtered_list(doctor_client, doctor, django_assert_num_queries):
    """One patient's plain list comes from a prepared query; it is what the filter backends'
    path writes (a doctor naming no patient, or any query parameter)."""
    owner = PatientFactory(assigned_doctor=doctor, timezone="Pacific/Kiritimati")
    medications = MedicationFactory.create_batch(3, patient=owner)
    MedicationFactory(patient=owner, is_active=False)
    MedicationFactory()  # someone else's
    with django_assert_num_queries(2):  # auth user, the medications
        plain = client_for(owner).get(URL)
    generic = doctor_client.get(URL)  # all my patients': the filter backends' path
    assert plain.content == generic.content == doctor_client.get(f"{URL}?patient={owner.pk}").content
    assert plain.content == client_for(owner).get(f"{URL}?search=").content  # a parameter: the same path
    assert [row["id"] for row in plain.json()][-3:] == [m.pk for m in reversed(medications)]
