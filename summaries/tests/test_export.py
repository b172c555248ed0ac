"""GET /api/auth/export/: the JSON document, the ZIP of CSV files and the FHIR R4 bundle."""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Caregiver, DataAccessLog
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from medications.models import Frequency, Reminder, ReminderKind, ReminderStatus
from medications.tests.factories import MedicationFactory, ReminderFactory
from summaries.export.fhir import FhirValidationError, Validator
from summaries.export.spreadsheet import safe_cell
from symptoms.insights import cache as insight_cache
from symptoms.models import Mood, Symptom
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/auth/export/"
MINE = "Mine-7731"  # in every free-text field of the exported patient
THEIRS = "Zq-theirs-5120"  # in every free-text field of another patient: must never appear
INJECTIONS = ["=HYPERLINK(1)", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def seed(patient, *, text: str, n: int = 3) -> None:
    """A month-like set of data: medications of each kind, doses of every status, symptoms with
    links, moods, access-log entries."""
    today = patient.local_today()
    start = today - datetime.timedelta(days=40)
    daily = MedicationFactory(
        patient=patient, name=f"{text} pill", notes=f"{text} note", start_date=start, dosage="500 mg"
    )
    custom = MedicationFactory(
        patient=patient,
        name=f"{text} custom",
        frequency=Frequency.CUSTOM,
        custom_schedule=["07:15", "21:30"],
        start_date=start,
        end_date=today + datetime.timedelta(days=30),
    )
    MedicationFactory(patient=patient, name=f"{text} prn", frequency=Frequency.AS_NEEDED, start_date=start)
    MedicationFactory(patient=patient, name=f"{text} old", is_active=False, start_date=start)
    now = timezone.now()
    statuses = [ReminderStatus.TAKEN, ReminderStatus.SKIPPED, ReminderStatus.MISSED, ReminderStatus.SENT]
    for i in range(n * len(statuses)):
        ReminderFactory(
            medication=daily if i % 2 else custom,
            scheduled_for=now - datetime.timedelta(hours=6 * i + 1),
            status=statuses[i % len(statuses)],
        )
    ReminderFactory(medication=daily, kind=ReminderKind.LOGGED, status=ReminderStatus.TAKEN)
    for i in range(n):
        SymptomFactory(
            patient=patient,
            name=f"{text} ache {i}",
            notes=f"{text} notes",
            severity=1 + i % 10,
            date=today - datetime.timedelta(days=i),
            related_medications=[daily, custom] if i % 2 else [],
        )
        MoodFactory(patient=patient, mood=1 + i % 5, notes=f"{text} mood", date=today - datetime.timedelta(days=i))
    Caregiver.objects.create(patient=patient, email=f"{text.lower()}@example.test", name=f"{text} carer")
    doctor = DoctorFactory(first_name=text)
    DataAccessLog.objects.create(doctor=doctor, doctor_name=f"{text} Dr", patient=patient, resource="symptoms")
    insight_cache.store().set(
        insight_cache.latest_key(patient.pk), {"insight": f"{text} insight", "patterns": [f"{text} pattern"]}
    )


@pytest.fixture
def world(db):
    patient = PatientFactory(
        first_name=MINE, last_name="Lee", phone="+1 555 0100", date_of_birth=datetime.date(1980, 2, 1)
    )
    other = PatientFactory(first_name=THEIRS)
    seed(patient, text=MINE)
    seed(other, text=THEIRS)
    return patient, other


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def export(user, query: str = "") -> bytes:
    return body(client_for(user).get(URL + query))


# --- JSON -------------------------------------------------------------------------------------


def test_json_has_every_row_and_nothing_of_anyone_else(world):
    patient, _other = world
    raw = export(patient)
    assert THEIRS.encode() not in raw
    doc = json.loads(raw)
    assert (doc["format"], doc["version"]) == ("meditrack-export", 1)
    assert doc["profile"]["id"] == patient.pk
    assert doc["profile"]["first_name"] == MINE
    expect = {
        "medications": set(patient.medications.values_list("pk", flat=True)),
        "reminders": set(Reminder.objects.filter(patient=patient).values_list("pk", flat=True)),
        "symptoms": set(Symptom.objects.filter(patient=patient).values_list("pk", flat=True)),
        "moods": set(Mood.objects.filter(patient=patient).values_list("pk", flat=True)),
    }
    for kind, ids in expect.items():
        assert {row["id"] for row in doc[kind]} == ids, kind
        assert len(doc[kind]) == len(ids)
    linked = [row for row in doc["symptoms"] if row["related_medications"]]
    assert linked
    assert all(len(row["related_medications"]) == 2 for row in linked)
    assert [row["doctor_name"] for row in doc["access_log"]] == [f"{MINE} Dr"]
    assert [row["name"] for row in doc["caregivers"]] == [f"{MINE} carer"]
    assert doc["latest_insight"]["insight"] == f"{MINE} insight"
    custom = next(row for row in doc["medications"] if row["frequency"] == "custom")
    assert custom["reminder_times"] == ["07:15", "21:30"]
    assert doc["reminders"][0]["scheduled_for"] <= doc["reminders"][-1]["scheduled_for"]  # oldest first


def test_json_for_a_new_account_is_empty_lists(patient, patient_client):
    doc = json.loads(body(patient_client.get(URL)))
    for kind in ("medications", "reminders", "symptoms", "moods", "caregivers", "access_log"):
        assert doc[kind] == []
    assert doc["latest_insight"] is None


def test_download_headers(patient, patient_client):
    for fmt, content_type in (
        ("json", "application/json"),
        ("csv", "application/zip"),
        ("fhir", "application/fhir+json"),
    ):
        response = patient_client.get(f"{URL}?format={fmt}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith('attachment; filename="meditrack-export-')
        assert response["Cache-Control"] == "no-store"
        b"".join(response.streaming_content)


# --- CSV --------------------------------------------------------------------------------------


def read_zip(raw: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert archive.testzip() is None
        return {
            name.removesuffix(".csv"): list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            for name in archive.namelist()
        }


def test_csv_zip_has_one_file_per_kind_with_every_row(world):
    patient, _other = world
    raw = export(patient, "?format=csv")
    tables = read_zip(raw)
    assert set(tables) == {
        *("profile", "medications", "reminders", "symptoms", "moods", "caregivers", "access_log", "latest_insight")
    }
    counts = {
        "profile": 1,
        "medications": patient.medications.count(),
        "reminders": Reminder.objects.filter(patient=patient).count(),
        "symptoms": Symptom.objects.filter(patient=patient).count(),
        "moods": Mood.objects.filter(patient=patient).count(),
        "caregivers": 1,
        "access_log": 1,
    }
    for kind, count in counts.items():
        header, *data = tables[kind]
        assert header[0] in ("id", "doctor_id"), kind  # a header row
        assert len(data) == count, kind
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert THEIRS.encode() not in everything
    assert MINE.encode() in everything
    header, *data = tables["symptoms"]
    ids = {int(row[header.index("id")]) for row in data}
    assert ids == set(Symptom.objects.filter(patient=patient).values_list("pk", flat=True))
    assert any(row[header.index("related_medications")].count(" ") == 1 for row in data)


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_cells_never_start_a_formula(patient, patient_client, text):
    SymptomFactory(patient=patient, name=text, notes=text)
    tables = read_zip(body(patient_client.get(f"{URL}?format=csv")))
    header, row = tables["symptoms"]
    assert row[header.index("name")] == "'" + text
    assert row[header.index("notes")] == "'" + text


def test_safe_cell():
    assert safe_cell("Headache") == "Headache"
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"
    assert safe_cell(5) == "5"
    assert safe_cell(["07:15", "21:30"]) == "07:15 21:30"
    assert safe_cell([{"from_day": 0}]) == '[{"from_day":0}]'
    assert safe_cell(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)) == "2026-01-02T03:04:05Z"


# --- FHIR -------------------------------------------------------------------------------------


def resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_fhir_bundle_validates_and_has_every_row(world):
    patient, _other = world
    raw = export(patient, "?format=fhir")
    assert THEIRS.encode() not in raw
    Bundle.model_validate_json(raw)  # the whole bundle, as a receiving system would check it
    bundle = json.loads(raw)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    [person] = resources(bundle, "Patient")
    assert person["name"][0]["given"] == [MINE]
    assert person["birthDate"] == "1980-02-01"
    assert len(resources(bundle, "MedicationStatement")) == patient.medications.count()
    taken = Reminder.objects.filter(patient=patient, status=ReminderStatus.TAKEN)
    administrations = resources(bundle, "MedicationAdministration")
    assert {r["identifier"][0]["value"] for r in administrations} == {
        str(pk) for pk in taken.values_list("pk", flat=True)
    }
    observations = resources(bundle, "Observation")
    symptoms = [o for o in observations if o["id"].startswith("symptom-")]
    moods = [o for o in observations if o["id"].startswith("mood-")]
    assert sorted(o["valueInteger"] for o in symptoms) == sorted(
        Symptom.objects.filter(patient=patient).values_list("severity", flat=True)
    )
    assert len(moods) == Mood.objects.filter(patient=patient).count()
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    assert all(r["subject"]["reference"] == urls[0] for r in observations + administrations)


def test_fhir_timing_expresses_the_regimen(patient, patient_client):
    start = datetime.date(2026, 1, 5)
    MedicationFactory(
        patient=patient,
        frequency=Frequency.CUSTOM,
        custom_schedule=["07:15", "21:30"],
        start_date=start,
        end_date=datetime.date(2026, 3, 1),
    )
    MedicationFactory(patient=patient, frequency=Frequency.AS_NEEDED, start_date=start)
    bundle = json.loads(body(patient_client.get(f"{URL}?format=fhir")))
    custom, as_needed = sorted(resources(bundle, "MedicationStatement"), key=lambda r: r["id"])
    repeat = custom["dosage"][0]["timing"]["repeat"]
    assert repeat["timeOfDay"] == ["07:15:00", "21:30:00"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (2, 1, "d")
    assert repeat["boundsPeriod"] == {"start": "2026-01-05", "end": "2026-03-01"}
    assert custom["status"] == "completed"
    assert as_needed["dosage"][0]["asNeededBoolean"] is True
    assert "timeOfDay" not in as_needed["dosage"][0]["timing"]["repeat"]


def test_fhir_identifiers_are_stable_across_exports(world):
    patient, _other = world
    first, second = (json.loads(export(patient, "?format=fhir")) for _ in range(2))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert [e["resource"]["identifier"] for e in first["entry"]] == [
        e["resource"]["identifier"] for e in second["entry"]
    ]


# --- Cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "fhir"])
def test_queries_do_not_grow_with_rows(fmt):
    small, large = PatientFactory(), PatientFactory()
    seed(small, text="a", n=1)
    seed(large, text="b", n=12)
    counts = []
    for user in (small, large):
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            body(client.get(f"{URL}?format={fmt}"))
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


# --- Who may export what ----------------------------------------------------------------------


def test_a_doctor_exports_an_assigned_patients_fhir_bundle_audited(world):
    patient, _other = world
    doctor = DoctorFactory()
    patient.assigned_doctor = doctor
    patient.save()
    client = client_for(doctor)
    raw = body(client.get(f"{URL}?format=fhir&patient={patient.pk}"))
    assert THEIRS.encode() not in raw
    assert DataAccessLog.objects.filter(doctor=doctor, patient=patient, resource="export").count() == 1
    for query in (f"?patient={patient.pk}", f"?format=csv&patient={patient.pk}"):
        assert client.get(URL + query).status_code == 403
    assert client.get(f"{URL}?format=fhir").status_code == 400  # which patient?
    assert client.get(f"{URL}?format=fhir&patient={world[1].pk}").status_code == 404
    assert DataAccessLog.objects.filter(doctor=doctor).count() == 1


def test_unverified_doctors_and_strangers(world):
    patient, other = world
    unverified = DoctorFactory(is_verified_doctor=False)
    patient.assigned_doctor = unverified
    patient.save()
    assert client_for(unverified).get(f"{URL}?format=fhir&patient={patient.pk}").status_code == 403
    assert client_for(other).get(f"{URL}?patient={patient.pk}").status_code == 404
    assert client_for(None).get(URL).status_code == 401


@pytest.mark.parametrize("query", ["?format=xml", "?format=", "?patient=abc"])
def test_bad_queries_are_400(patient_client, query):
    response = patient_client.get(URL + query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_exports_are_rate_limited_per_user(settings, patient, patient_client):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/h"}
    for _ in range(2):
        body(patient_client.get(URL))
    response = patient_client.get(f"{URL}?format=fhir")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert client_for(PatientFactory()).get(URL).status_code == 200  # another user is not limited


def _dose(pk: int, when: str, **extra) -> dict:
    return {
        **extra,
        "resourceType": "MedicationAdministration",
        "id": f"dose-{pk}",
        "identifier": [{"system": "https://example.test/fhir/identifier/dose", "value": str(pk)}],
        "status": "completed",
        "medicationCodeableConcept": {"text": "Metformin 500 mg"},
        "subject": {"reference": "urn:uuid:6f1c1e2a-4f0b-5a8e-9d43-2c7b9e1f0a55"},
        "effectiveDateTime": when,
        "dosage": {"dose": {"value": 1.0, "unit": "tablet"}},
    }


def test_the_validator_refuses_what_the_models_refuse_on_either_path():
    validate = Validator()
    validate(_dose(1, "2026-01-01T08:00:00Z"))  # a new skeleton: the whole model
    validate(_dose(2, "2026-01-02T08:00:00Z"))  # the same skeleton: its varying values
    assert len(validate.skeletons) == 1
    with pytest.raises(FhirValidationError):
        validate(_dose(3, "2026-13-02T08:00:00Z"))  # a bad date in a known skeleton
    with pytest.raises(FhirValidationError):
        validate(_dose(4, "2026-01-02T08:00:00Z", colour="red"))  # a new skeleton, refused whole
    with pytest.raises(FhirValidationError):
        validate({**_dose(5, "2026-01-02T08:00:00Z"), "id": "bad id!"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["json", "csv", "fhir"])
def test_an_export_reads_one_snapshot(fmt):
    """Outside a test transaction (as in production) every kind is read in one read-only
    transaction, at REPEATABLE READ on PostgreSQL."""
    patient = PatientFactory()
    seed(patient, text="s", n=1)
    with CaptureQueriesContext(connection) as queries:
        body(client_for(patient).get(f"{URL}?format={fmt}"))
    statements = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert any("REPEATABLE READ READ ONLY" in sql for sql in statements)
    assert not connection.in_atomic_block


def _statement(bundle: dict, medication) -> dict:
    return next(r for r in resources(bundle, "MedicationStatement") if r["id"] == f"medication-{medication.pk}")


def test_fhir_timing_of_every_regimen(patient, patient_client):
    start = datetime.date(2026, 1, 5)
    weekly = MedicationFactory(patient=patient, start_date=start, days_of_week=["mon", "thu"])
    every_other = MedicationFactory(patient=patient, start_date=start, every_n_days=2)
    cycle = MedicationFactory(patient=patient, start_date=start, cycle_on_days=21, cycle_off_days=7)
    interval = MedicationFactory(
        patient=patient,
        start_date=start,
        frequency=Frequency.INTERVAL,
        interval_hours=8,
        interval_start=datetime.time(8, 0),
        interval_end=datetime.time(22, 0),
        dose_quantity=Decimal("2.5"),
        dose_unit="ml",
    )
    taper = MedicationFactory(
        patient=patient,
        start_date=start,
        end_date=datetime.date(2026, 1, 25),
        dose_unit="tablet",
        taper=[{"from_day": 0, "dose_quantity": 4}, {"from_day": 7, "dose_quantity": 2}],
    )
    for day, status in ((1, ReminderStatus.TAKEN), (8, ReminderStatus.TAKEN)):
        when = datetime.datetime.combine(start + datetime.timedelta(days=day), datetime.time(8), tzinfo=datetime.UTC)
        ReminderFactory(medication=taper, scheduled_for=when, status=status)
    raw = body(patient_client.get(f"{URL}?format=fhir"))
    Bundle.model_validate_json(raw)
    bundle = json.loads(raw)

    repeat = _statement(bundle, weekly)["dosage"][0]["timing"]["repeat"]
    assert (repeat["dayOfWeek"], repeat["timeOfDay"], repeat["frequency"], repeat["period"]) == (
        ["mon", "thu"],
        ["08:00:00"],
        1,
        1,
    )
    repeat = _statement(bundle, every_other)["dosage"][0]["timing"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 2, "d")
    assert "21 days on, 7 days off" in _statement(bundle, cycle)["dosage"][0]["text"]
    dosage = _statement(bundle, interval)["dosage"][0]
    assert dosage["timing"]["repeat"]["timeOfDay"] == ["08:00:00", "16:00:00"]
    assert "every 8 hours; at 08:00, 16:00" in dosage["text"]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 2.5, "unit": "ml"}
    steps = _statement(bundle, taper)["dosage"]
    assert [
        (s["sequence"], s["timing"]["repeat"]["boundsPeriod"], s["doseAndRate"][0]["doseQuantity"]) for s in steps
    ] == [
        (1, {"start": "2026-01-05", "end": "2026-01-11"}, {"value": 4.0, "unit": "tablet"}),
        (2, {"start": "2026-01-12", "end": "2026-01-25"}, {"value": 2.0, "unit": "tablet"}),
    ]
    doses = sorted(resources(bundle, "MedicationAdministration"), key=lambda r: r["effectiveDateTime"])
    assert [r["dosage"]["dose"] for r in doses] == [{"value": 4.0, "unit": "tablet"}, {"value": 2.0, "unit": "tablet"}]
    doc = json.loads(body(patient_client.get(URL)))
    by_id = {row["id"]: row for row in doc["medications"]}
    assert by_id[taper.pk]["taper"] == [{"from_day": 0, "dose_quantity": 4}, {"from_day": 7, "dose_quantity": 2}]
    assert by_id[interval.pk]["interval_hours"] == 8
    header, *lines = read_zip(body(patient_client.get(f"{URL}?format=csv")))["medications"]
    assert len(lines) == 5
    assert {"days_of_week", "taper", "dose_quantity"} <= set(header)
