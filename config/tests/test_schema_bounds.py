"""The schema states every bound the server enforces on query parameters, and no other.

A schema-driven client (a generated SDK, schemathesis, Swagger UI) trusts the schema: a value it
says is allowed must not be refused, and a value the server refuses must be out of the schema's
bounds. For every GET operation and every query parameter, this test sends probe values one
parameter at a time (around each documented bound, and a fixed set around the usual ones: 0, 1,
5, 10, 90, 365, 500, …) and checks each answer against the schema: inside the documented bounds
→ not a 400; a 400 → outside them.
"""

from __future__ import annotations

import pytest

from accounts.tests.factories import DoctorFactory, PatientFactory
from conftest import client_for
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
