import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import DoctorFactory, PatientFactory


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
