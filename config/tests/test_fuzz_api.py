"""Schema-driven fuzzing: schemathesis generates valid and invalid requests for every operation
of the OpenAPI schema, as a patient and as a doctor; none may answer 5xx or contradict the schema.

Bounded by ``FUZZ_EXAMPLES`` examples per operation (CI runs it on every push).
"""

from __future__ import annotations

import datetime
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import DoctorFactory, PatientFactory
from config.wsgi import application
from conftest import client_for
from medications.tests.factories import MedicationFactory, ReminderFactory
from symptoms.tests.factories import MoodFactory, SymptomFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Unknown query parameters are ignored, as in most HTTP APIs (a client may add cache-busters);
# every declared parameter is validated strictly.
schema.config.generation.update(max_examples=EXAMPLES, allow_extra_parameters=False)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI app directly; as Django's test client does, keep the end of each
    request from closing the database connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    """Push endpoints are resolved before they are accepted: no fuzzed host name is looked up."""
    from notifications import endpoints

    def resolve(host: str, port: int) -> list[str]:
        raise endpoints.EndpointRefused("The endpoint's host name does not resolve.")

    monkeypatch.setattr(endpoints, "resolve", resolve)


@pytest.fixture
def world(db):
    doctor = DoctorFactory()
    patient = PatientFactory(assigned_doctor=doctor, timezone="America/New_York")
    medication = MedicationFactory(patient=patient)
    SymptomFactory(patient=patient, related_medications=[medication])
    MoodFactory(patient=patient, date=patient.local_today() - datetime.timedelta(days=1))
    ReminderFactory(medication=medication)
    return {"patient": patient, "doctor": doctor}


def _auth(user) -> dict[str, str]:
    return {"Authorization": client_for(user)._credentials["HTTP_AUTHORIZATION"]}


FUZZ_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_patient(case, world):
    response = case.call(headers=_auth(world["patient"]))
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_doctor(case, world):
    response = case.call(headers=_auth(world["doctor"]))
    case.validate_response(response, checks=CHECKS)
