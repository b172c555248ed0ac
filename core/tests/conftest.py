"""Fixtures of core's tests."""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import skip_or_fail


@pytest.fixture
def postgres():
    """The test database's connection, which must be PostgreSQL (a failure under CI)."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    connection.ensure_connection()
    return connection
