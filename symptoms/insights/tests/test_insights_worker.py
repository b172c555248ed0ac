"""End to end with a real Celery worker process, PostgreSQL and Redis (integration)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from conftest import client_for, skip_or_fail
from core.tests.servers import database_url, start_worker, stop_process
from symptoms.insights.tests.factories import SymptomFactory

URL = "/api/symptoms/ai_insights/"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(fake_gemini, settings):
    if not django_settings.REDIS_URL or connection.vendor != "postgresql":
        skip_or_fail("needs REDIS_URL and PostgreSQL so a worker process shares the cache and database")
    env = {
        "DATABASE_URL": database_url(),
        "GEMINI_API_KEY": settings.GEMINI_API_KEY,
        "GEMINI_MODEL": settings.GEMINI_MODEL,
        "GEMINI_BASE_URL": settings.GEMINI_BASE_URL,
        "GEMINI_TIMEOUT_SECONDS": "5",
    }
    process = start_worker(queue="celery", env=env)  # the queue the insight task goes to
    try:
        yield process
    finally:
        stop_process(process)


def test_a_real_worker_answers_with_gemini_within_the_budget(patient, fake_gemini, worker, settings, caplog):
    settings.INSIGHTS_WAIT_SECONDS = 18
    SymptomFactory(patient=patient, name="Headache", severity=6)

    body = client_for(patient).get(URL).json()

    # "gemini" (not the built-in fallback) means the worker answered within the request's budget.
    assert worker.poll() is None, stop_process(worker)
    assert (body["source"], body["cached"]) == ("gemini", False)
    assert len(fake_gemini.requests) == 1
    assert "Broker unavailable" not in caplog.text  # the worker did it, not the in-process fallback
    assert client_for(patient).get(URL).json()["cached"] is True
