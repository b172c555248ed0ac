"""GET /api/auth/export/: the JSON document, the ZIP of CSV files and the FHIR R4 bundle."""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal

import hypothesis
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.dosage import Dosage
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from accounts.models import Caregiver, CaregiverStatus, DataAccessLog
from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from medications.models import Frequency, Medication, Reminder, ReminderKind, ReminderStatus
from medications.schedule import WEEKDAYS, Regimen
from medications.tests.factories import MedicationFactory, ReminderFactory
from summaries.export.fhir import MAX_CYCLE_DOSAGES, FhirValidationError, Validator, dosages
from summaries.export.spreadsheet import safe_cell
from symptoms.insights import cache as insight_cache
from symptoms.models import Mood, Symptom
from symptoms.tests.factories import MoodFactory, SymptomFactory

pytestmark = pytest.mark.django_db

URL = "/api/auth/export/"
MINE = "Mine-7731"  # in every free-text field of the exported patient
THEIRS = "Zq-theirs-5120"  # in every free-text field of another patient: must never appear
INJECTIONS = ["=HYPERLINK(1)", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]
SNOOZE = datetime.timedelta(minutes=17)


def seed(patient, *, text: str, n: int = 3) -> None:
    """A month-like set of data: medications of each frequency and regimen (with stock), doses of
    every status (one snoozed, one followed up), symptoms with links, moods, caregivers of every
    status, access-log entries, profile settings and an AI insight."""
    today = patient.local_today()
    start = today - datetime.timedelta(days=40)
    patient.remind_again_minutes = 37
    patient.share_medication_names = True
    patient.notify_doctor_on_missed = True
    patient.save()
    daily = MedicationFactory(
        patient=patient,
        name=f"{text} pill",
        notes=f"{text} note",
        start_date=start,
        dosage="500 mg",
        stock_quantity=Decimal("12.25"),
        refill_threshold_days=9,
    )
    MedicationFactory(patient=patient, name=f"{text} weekly", days_of_week=["mon"], start_date=start)
    MedicationFactory(patient=patient, name=f"{text} every 3", every_n_days=3, start_date=start)
    MedicationFactory(patient=patient, name=f"{text} cycle", cycle_on_days=21, cycle_off_days=7, start_date=start)
    MedicationFactory(
        patient=patient,
        name=f"{text} interval",
        frequency=Frequency.INTERVAL,
        interval_hours=6,
        interval_start=datetime.time(7, 0),
        interval_end=datetime.time(19, 0),
        dose_quantity=Decimal("2.5"),
        dose_unit=f"{text} ml",
        start_date=start,
    )
    MedicationFactory(
        patient=patient,
        name=f"{text} taper",
        start_date=start,
        end_date=today + datetime.timedelta(days=10),
        taper=[{"from_day": 0, "dose_quantity": 4}, {"from_day": 20, "dose_quantity": 2}],
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
    ReminderFactory(  # snoozed: emailed again at snoozed_until if still unanswered
        medication=daily, scheduled_for=now - datetime.timedelta(minutes=20), snoozed_until=now + SNOOZE
    )
    ReminderFactory(  # remind again: its one follow-up email went out
        medication=custom, scheduled_for=now - datetime.timedelta(minutes=50), followup_sent_at=now
    )
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
    Caregiver.objects.create(
        patient=patient,
        email=f"{text.lower()}.accepted@example.test",
        name=f"{text} accepted carer",
        status=CaregiverStatus.ACCEPTED,
        accepted_at=now,
    )
    Caregiver.objects.create(
        patient=patient,
        email=f"{text.lower()}.gone@example.test",
        name=f"{text} gone carer",
        status=CaregiverStatus.UNSUBSCRIBED,
        accepted_at=now - datetime.timedelta(days=3),
        unsubscribed_at=now,
    )
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
    # Each symptom is the API's symptom object, the same bytes (SymptomSerializer writes both).
    api = sorted(client_for(patient).get("/api/symptoms/").json(), key=lambda row: row["id"])
    assert doc["symptoms"] == api
    assert [row["doctor_name"] for row in doc["access_log"]] == [f"{MINE} Dr"]
    assert [row["name"] for row in doc["caregivers"]] == [
        f"{MINE} carer",
        f"{MINE} accepted carer",
        f"{MINE} gone carer",
    ]
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
        "caregivers": 3,
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


# --- Every kind of row, in every format --------------------------------------------------------


def _csv_holds(cell: str, value) -> bool:
    """A CSV cell holds the JSON document's value of the same row and field."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, int | float):
        return Decimal(cell) == Decimal(str(value))
    if isinstance(value, list) and all(isinstance(item, str | int) and not isinstance(item, bool) for item in value):
        return cell.removeprefix("'") == " ".join(str(item) for item in value)
    if isinstance(value, list | dict):
        return json.loads(cell) == value
    return cell in (value, "'" + value)


def _when(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_csv_holds_every_field_of_every_json_row(world):
    patient, _other = world
    doc = json.loads(export(patient))
    tables = read_zip(export(patient, "?format=csv"))
    for kind in ("medications", "reminders", "symptoms", "moods", "caregivers", "access_log"):
        header, *lines = tables[kind]
        assert header == list(doc[kind][0]), kind  # every field of a JSON row is a column
        assert len(lines) == len(doc[kind]), kind
        for line, row in zip(lines, doc[kind], strict=True):  # in the same order
            for column, cell in zip(header, line, strict=True):
                assert _csv_holds(cell, row[column]), (kind, column, cell, row[column])
    (header, line) = tables["profile"]
    assert header == list(doc["profile"])
    assert all(_csv_holds(cell, doc["profile"][column]) for column, cell in zip(header, line, strict=True))
    insight = dict(tables["latest_insight"][1:])
    assert insight.keys() == doc["latest_insight"].keys()
    assert all(_csv_holds(cell, doc["latest_insight"][field]) for field, cell in insight.items())


def test_json_has_the_regimens_and_the_adherence_loop(world):
    patient, _other = world
    doc = json.loads(export(patient))
    profile = doc["profile"]
    assert (profile["remind_again_minutes"], profile["share_medication_names"], profile["notify_doctor_on_missed"]) == (
        37,
        True,
        True,
    )
    meds = {row["name"].removeprefix(f"{MINE} "): row for row in doc["medications"]}
    assert meds["weekly"]["days_of_week"] == ["mon"]
    assert meds["every 3"]["every_n_days"] == 3
    assert (meds["cycle"]["cycle_on_days"], meds["cycle"]["cycle_off_days"]) == (21, 7)
    interval = meds["interval"]
    assert (
        interval["frequency"],
        interval["interval_hours"],
        interval["interval_start"],
        interval["interval_end"],
    ) == (
        "interval",
        6,
        "07:00",
        "19:00",
    )
    assert interval["reminder_times"] == ["07:00", "13:00", "19:00"]
    assert (interval["dose_quantity"], interval["dose_unit"]) == (2.5, f"{MINE} ml")
    assert meds["taper"]["taper"] == [{"from_day": 0, "dose_quantity": 4}, {"from_day": 20, "dose_quantity": 2}]
    pill = meds["pill"]
    assert (pill["stock_quantity"], pill["refill_threshold_days"]) == (12.25, 9)
    assert pill["days_of_supply"] in (12, 13)  # 12.25 tablets, one a day at 08:00 (today's maybe past)
    today = patient.local_today()
    assert pill["runs_out_on"] == (today + datetime.timedelta(days=pill["days_of_supply"])).isoformat()
    reminders = {row["id"]: row for row in doc["reminders"]}
    snoozed = Reminder.objects.get(patient=patient, snoozed_until__isnull=False)
    assert _when(reminders[snoozed.pk]["snoozed_until"]) == snoozed.snoozed_until
    assert [row["id"] for row in doc["reminders"] if row["snoozed_until"]] == [snoozed.pk]
    followed_up = Reminder.objects.get(patient=patient, followup_sent_at__isnull=False)
    assert reminders[followed_up.pk]["status"] == "sent"
    logged = Reminder.objects.get(patient=patient, kind=ReminderKind.LOGGED)
    assert reminders[logged.pk]["kind"] == "logged"
    carers = {row["name"]: row for row in doc["caregivers"]}
    assert {name: row["status"] for name, row in carers.items()} == {
        f"{MINE} carer": "invited",
        f"{MINE} accepted carer": "accepted",
        f"{MINE} gone carer": "unsubscribed",
    }
    assert carers[f"{MINE} carer"]["accepted_at"] is None
    assert carers[f"{MINE} accepted carer"]["email"] == f"{MINE.lower()}.accepted@example.test"
    assert carers[f"{MINE} accepted carer"]["accepted_at"] is not None


def test_fhir_has_every_row_it_can_express(world):
    patient, _other = world
    raw = export(patient, "?format=fhir")
    assert THEIRS.encode() not in raw
    Bundle.model_validate_json(raw)
    bundle = json.loads(raw)
    statements = {r["id"]: r for r in resources(bundle, "MedicationStatement")}
    for medication in patient.medications.all():
        statement = statements[f"medication-{medication.pk}"]
        assert statement["medicationCodeableConcept"]["text"] == f"{medication.name} {medication.dosage}"
        assert all(d["doseAndRate"][0]["doseQuantity"]["unit"] == medication.dose_unit for d in statement["dosage"])
    pill = patient.medications.get(name=f"{MINE} pill")
    assert statements[f"medication-{pill.pk}"]["note"] == [{"text": f"{MINE} note"}]
    people = {p["name"][0]["text"]: p for p in resources(bundle, "RelatedPerson")}
    assert {name: (p["telecom"], p["active"]) for name, p in people.items()} == {
        f"{MINE} carer": ([{"system": "email", "value": f"{MINE.lower()}@example.test"}], False),
        f"{MINE} accepted carer": ([{"system": "email", "value": f"{MINE.lower()}.accepted@example.test"}], True),
        f"{MINE} gone carer": ([{"system": "email", "value": f"{MINE.lower()}.gone@example.test"}], False),
    }
    assert "period" not in people[f"{MINE} carer"]
    assert set(people[f"{MINE} gone carer"]["period"]) == {"start"}
    patient_url = bundle["entry"][0]["fullUrl"]
    assert all(p["patient"] == {"reference": patient_url} for p in people.values())
    observations = resources(bundle, "Observation")
    symptoms = {o["code"]["text"]: o for o in observations if o["id"].startswith("symptom-")}
    assert set(symptoms) == set(Symptom.objects.filter(patient=patient).values_list("name", flat=True))
    assert all(o["note"] == [{"text": f"{MINE} notes"}] for o in symptoms.values())
    moods = [o for o in observations if o["id"].startswith("mood-")]
    assert moods and all(o["note"] == [{"text": f"{MINE} mood"}] for o in moods)


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
    assert b"RelatedPerson" not in raw  # doctors never read a patient's caregivers
    assert MINE.lower().encode() not in raw  # in the caregivers' addresses only
    assert f"{MINE} carer".encode() not in raw
    assert f"{MINE} pill".encode() in raw
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
    finite_cycle = MedicationFactory(
        patient=patient,
        start_date=start,
        end_date=datetime.date(2026, 1, 26),
        frequency=Frequency.TWICE_DAILY,
        cycle_on_days=5,
        cycle_off_days=5,
    )
    every_third_taper = MedicationFactory(
        patient=patient,
        start_date=start,
        every_n_days=3,
        taper=[{"from_day": 0, "dose_quantity": 2}, {"from_day": 4, "dose_quantity": 1}],
    )
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
    [open_cycle] = _statement(bundle, cycle)["dosage"]
    assert "21 days on, 7 days off" in open_cycle["text"]
    repeat = open_cycle["timing"]["repeat"]  # no end: 21 doses in every 28 days, never "daily"
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (21, 28, "d")
    assert repeat["boundsPeriod"] == {"start": "2026-01-05"}
    phases = _statement(bundle, finite_cycle)["dosage"]  # with an end: one dosage per on-phase
    assert [(d["timing"]["repeat"]["boundsPeriod"], d["timing"]["repeat"]["frequency"]) for d in phases] == [
        ({"start": "2026-01-05", "end": "2026-01-09"}, 2),
        ({"start": "2026-01-15", "end": "2026-01-19"}, 2),
        ({"start": "2026-01-25", "end": "2026-01-26"}, 2),
    ]
    steps = _statement(bundle, every_third_taper)["dosage"]  # each step starts on a dose day
    assert [(s["timing"]["repeat"]["boundsPeriod"], s["timing"]["repeat"]["period"]) for s in steps] == [
        ({"start": "2026-01-05", "end": "2026-01-08"}, 3),
        ({"start": "2026-01-11"}, 3),
    ]
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
    assert len(lines) == 7
    assert {"days_of_week", "taper", "dose_quantity"} <= set(header)


# --- The FHIR timing tells the truth ----------------------------------------------------------

day_rules = st.one_of(
    st.just({}),
    st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(lambda d: {"days_of_week": d}),
    st.integers(2, 9).map(lambda n: {"every_n_days": n}),
    st.tuples(st.integers(1, 9), st.integers(1, 9)).map(lambda c: {"cycle_on_days": c[0], "cycle_off_days": c[1]}),
)
tapers = st.one_of(
    st.none(),
    st.lists(st.integers(1, 60), min_size=1, max_size=4, unique=True).map(
        lambda days: [{"from_day": day, "dose_quantity": i + 2} for i, day in enumerate([0, *sorted(days)])]
    ),
)
frequencies = st.sampled_from(
    [
        {"frequency": Frequency.ONCE_DAILY},
        {"frequency": Frequency.THREE_TIMES_DAILY},
        {"frequency": Frequency.CUSTOM, "custom_schedule": ["21:30", "06:45"]},
        {"frequency": Frequency.INTERVAL, "interval_hours": 5, "interval_start": datetime.time(7, 0)},
    ]
)


def _fhir_dose_days(dosage: list[dict], until: datetime.date) -> dict[datetime.date, tuple[float, int]]:
    """What a reader of the dosages finds: each dose day up to ``until``, its dose and its number
    of doses. Each dosage is read as FHIR says: from ``boundsPeriod.start``, a dose day every
    ``period`` days (``frequency`` doses, at each ``timeOfDay``), on the listed ``dayOfWeek``."""
    days: dict[datetime.date, tuple[float, int]] = {}
    for entry in dosage:
        repeat = entry["timing"]["repeat"]
        assert repeat["frequency"] == len(repeat["timeOfDay"]), repeat  # one dose day per period
        bounds = repeat["boundsPeriod"]
        day = datetime.date.fromisoformat(bounds["start"])
        last = min(datetime.date.fromisoformat(bounds["end"]) if "end" in bounds else until, until)
        while day <= last:
            if WEEKDAYS[day.weekday()] in repeat.get("dayOfWeek", WEEKDAYS):
                assert day not in days, day  # the dosages never overlap
                days[day] = (entry["doseAndRate"][0]["doseQuantity"]["value"], repeat["frequency"])
            day += datetime.timedelta(days=repeat["period"])
    return days


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    day_rule=day_rules,
    taper=tapers,
    frequency=frequencies,
    length=st.one_of(st.none(), st.integers(0, 400)),
)
def test_fhir_dosages_say_when_the_schedule_doses(day_rule, taper, frequency, length):
    """The dosages of a MedicationStatement, read as FHIR defines Timing, give exactly the dose
    days, quantities and number of doses a day of the schedule module, whenever they can say it
    exactly; an open-ended (or long) cycle is stated as a count per cycle, true in any window."""
    start = datetime.date(2026, 3, 2)
    end = None if length is None else start + datetime.timedelta(days=length)
    medication = Medication(start_date=start, end_date=end, taper=taper, **day_rule, **frequency)
    regimen = Regimen.of(medication)
    dosage = dosages(medication)
    Dosage.model_validate(dosage[0])
    on, off = medication.cycle_on_days, medication.cycle_off_days
    until = end or start + datetime.timedelta(days=400)
    if on and dosage[0]["timing"]["repeat"]["period"] != 1:  # counted: phases too many to list
        assert end is None or (end - start).days >= (MAX_CYCLE_DOSAGES - 4) * (on + off)  # 4: taper cuts
        for entry in dosage:  # "on × times doses per on + off days": true of every such window
            repeat = entry["timing"]["repeat"]
            assert (repeat["frequency"], repeat["period"]) == (on * len(medication.reminder_times), on + off)
            assert f"{on} days on, {off} days off" in entry["text"]
        return
    expected = {}
    day = start
    while day <= until:
        if regimen.is_dose_day(day):
            expected[day] = (float(regimen.quantity_on(day)), len(regimen.times))
        day += datetime.timedelta(days=1)
    assert _fhir_dose_days(dosage, until) == expected
