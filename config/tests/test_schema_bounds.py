"""The schema states every bound the server enforces on query parameters and dates, and no other.

A schema-driven client (a generated SDK, schemathesis, Swagger UI) trusts the schema: a value it
says is allowed must not be refused, and a value the server refuses must be out of the schema's
bounds. For every GET operation and every query parameter, this test sends probe values one
parameter at a time (around each documented bound, and a fixed set around the usual ones: 0, 1,
5, 10, 90, 365, 500, …) and checks each answer against the schema: inside the documented bounds
→ not a 400; a 400 → outside them.
"""

from __future__ import annotations

import re

import pytest

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
from core.validators import DATE_OUT_OF_RANGE, NAIVE_DATETIME
from medications.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db

INTEGER_PROBES = {-1, 0, 1, 2, 4, 5, 6, 7, 10, 11, 60, 61, 90, 91, 240, 241, 365, 366, 500, 501, 2**63}
STRING_PROBES = ("zzz-not-a-value",)


def _schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def _param_schema(schema: dict, param: dict) -> dict:
    node = param.get("schema", {})
    while "$ref" in node:
        target = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _query_parameters(schema: dict):
    """(path, name, its schema, the required parameters with a valid value) for every query
    parameter of every GET operation without path parameters."""
    for path, item in schema["paths"].items():
        if "{" in path or "get" not in item:
            continue
        parameters = [p for p in item["get"].get("parameters", []) if p.get("in") == "query"]
        required = {p["name"]: _param_schema(schema, p).get("minimum", 1) for p in parameters if p.get("required")}
        for param in parameters:
            yield path, param["name"], _param_schema(schema, param), required


def _inside(spec: dict, value) -> bool:
    if spec.get("type") == "integer":
        low, high = spec.get("minimum"), spec.get("maximum")
        if spec.get("exclusiveMinimum") is not None and value <= spec["exclusiveMinimum"]:
            return False
        return (low is None or value >= low) and (high is None or value <= high)
    if "enum" in spec:
        return value in spec["enum"]
    return spec.get("format") not in ("date", "date-time") and "pattern" not in spec


def _probes(spec: dict):
    if spec.get("type") == "integer":
        values = set(INTEGER_PROBES)
        for bound in (spec.get("minimum"), spec.get("maximum")):
            if bound is not None:
                values |= {bound - 1, bound, bound + 1}
        return sorted(values)
    if spec.get("type") == "string":
        return [*STRING_PROBES, *spec.get("enum", [])[:3]]
    return []


@pytest.fixture
def callers(db):
    """A patient, and for doctor-only routes a verified doctor with one assigned patient."""
    doctor = DoctorFactory(is_verified_doctor=True)
    patient = PatientFactory(assigned_doctor=doctor)
    medication = MedicationFactory(patient=patient)
    return client_for(patient), client_for(doctor), {"medication_id": medication.pk, "patient": patient.pk}


def test_every_documented_query_bound_is_the_servers_bound(callers):
    patient, doctor, existing = callers
    schema = _schema(patient)
    mismatches = []
    checked = 0
    for path, name, spec, required in _query_parameters(schema):
        required = {key: existing.get(key, value) for key, value in required.items()}
        caller = patient if patient.get(path, required).status_code != 403 else doctor
        for value in _probes(spec):
            response = caller.get(path, {**required, name: value})
            assert response.status_code != 403, (path, name, value)
            refused = response.status_code == 400
            inside = _inside(spec, value)
            checked += 1
            if inside and refused:
                mismatches.append((path, name, value, "documented as allowed, refused", response.content[:160]))
            if not refused and not inside:
                mismatches.append((path, name, value, "documented as out of bounds, accepted", response.status_code))
    assert checked > 100
    assert mismatches == [], "\n".join(map(repr, mismatches))


# --- Dates: the range and the UTC offset -----------------------------------------------------


def _date_nodes(node, where):
    """(where, schema) of every date or date-time string below ``node``."""
    if isinstance(node, list):
        for item in node:
            yield from _date_nodes(item, where)
    elif isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") in ("date", "date-time"):
            yield where, node
        for key, value in node.items():
            yield from _date_nodes(value, f"{where}.{key}")


def test_every_date_a_client_sends_states_the_range(anon):
    schema = _schema(anon)
    found = []
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            found += [(where, node) for where, node in _date_nodes(component, name) if not node.get("readOnly")]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for param in operation.get("parameters", []):
                found += list(_date_nodes(param.get("schema", {}), f"{method} {path} ?{param['name']}"))
    assert len(found) > 10
    unbounded = [where for where, node in found if "pattern" not in node or "1900-01-01" not in node["description"]]
    assert unbounded == []


DATE_PROBES = ["1899-12-31", "1900-01-01", "2026-03-04", "2100-12-31", "2101-01-01"]
DATETIME_PROBES = [
    "1899-12-31T23:59:00Z",
    "1900-01-01T00:00:00+05:30",
    "2026-03-04T08:00:00",  # no offset
    "2026-03-04T08:00Z",
    "2100-12-31T23:59:59.5-08:00",
    "2101-01-01T00:00:00Z",
]
BOUND_ERRORS = (DATE_OUT_OF_RANGE, NAIVE_DATETIME)


def _pattern(schema, component, field):
    return re.compile(schema["components"]["schemas"][component]["properties"][field]["pattern"])


def _refused_for_its_bounds(response, field) -> bool:
    """A 400 for this field's range or offset (other rules, e.g. no future days, may refuse too)."""
    return response.status_code == 400 and any(e in BOUND_ERRORS for e in response.json().get(field, []))


@pytest.mark.parametrize("value", DATE_PROBES)
def test_a_body_date_is_refused_exactly_when_outside_its_pattern(patient_client, value):
    pattern = _pattern(_schema(patient_client), "MoodRequest", "date")
    response = patient_client.post("/api/moods/", {"mood": 3, "date": value}, format="json")
    assert _refused_for_its_bounds(response, "date") == (pattern.match(value) is None), response.content


@pytest.mark.parametrize("value", DATETIME_PROBES)
def test_a_body_datetime_is_refused_exactly_when_outside_its_pattern(patient_client, patient, value):
    medication = MedicationFactory(patient=patient)
    pattern = _pattern(_schema(patient_client), "DoseLogRequest", "taken_at")
    response = patient_client.post(f"/api/medications/{medication.pk}/doses/", {"taken_at": value}, format="json")
    assert _refused_for_its_bounds(response, "taken_at") == (pattern.match(value) is None), response.content


@pytest.mark.parametrize("value", DATE_PROBES)
def test_a_query_date_is_refused_exactly_when_outside_its_pattern(patient_client, value):
    (param,) = [
        p for p in _schema(patient_client)["paths"]["/api/symptoms/"]["get"]["parameters"] if p["name"] == "date_after"
    ]
    response = patient_client.get("/api/symptoms/", {"date_after": value})
    assert _refused_for_its_bounds(response, "date_after") == (re.match(param["schema"]["pattern"], value) is None)
