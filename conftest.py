"""Project-wide pytest fixtures: API clients per role, fast hashing, a clean cache."""

from __future__ import annotations

import datetime
import os

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import DoctorFactory, PatientFactory


def services_required() -> bool:
    """Under `.ci/run` a missing server is a failure, not a skip."""
    return os.environ.get("MEDITRACK_REQUIRE_SERVICES", "") == "1"


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (MEDITRACK_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def _clear_caches() -> None:
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.READ_CACHE_SECONDS = 0  # symptoms/tests/test_readcache.py covers the cached reads
    _clear_caches()
    yield
    _clear_caches()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def doctor(db):
    return DoctorFactory(is_verified_doctor=True)


@pytest.fixture
def patient_client(patient) -> APIClient:
    return client_for(patient)


@pytest.fixture
def doctor_client(doctor) -> APIClient:
    return client_for(doctor)


@pytest.fixture
def freeze_now(monkeypatch):
    """Pin ``django.utils.timezone.now`` (every "today" in the code reads it) to a UTC instant."""

    def freeze(value: datetime.datetime) -> datetime.datetime:
        assert value.tzinfo is not None
        monkeypatch.setattr(timezone, "now", lambda: value)
        return value

    return freeze


@pytest.fixture
def assigned_patient(doctor):
    """A patient who chose the ``doctor`` fixture."""
    return PatientFactory(assigned_doctor=doctor, first_name="Ann", last_name="Lee")


@pytest.fixture
def other_patient(db):
    return PatientFactory()


@pytest.fixture
def other_doctor(db):
    return DoctorFactory(is_verified_doctor=True)
