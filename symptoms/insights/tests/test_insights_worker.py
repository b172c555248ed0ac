"""End to end with a real Celery worker process, PostgreSQL and Redis (integration)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from conftest import client_for, skip_or_fail
from symptoms.insights.tests.factories import SymptomFactory

URL = "/api/symptoms/ai_insights/"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(fake_gemini, settings):
    if not django_settings.REDIS_URL or connection.vendor != "postgresql":
        skip_or_fail("needs REDIS_URL and PostgreSQL so a worker process shares the cache and database")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "GEMINI_API_KEY": settings.GEMINI_API_KEY,
        "GEMINI_MODEL": settings.GEMINI_MODEL,
        "GEMINI_BASE_URL": settings.GEMINI_BASE_URL,
        "GEMINI_TIMEOUT_SECONDS": "5",
    }
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [
            str(celery),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_real_worker_answers_with_gemini_within_the_budget(patient, fake_gemini, worker, settings, caplog):
    settings.INSIGHTS_WAIT_SECONDS = 18
    SymptomFactory(patient=patient, name="Headache", severity=6)
    started = time.monotonic()

    body = client_for(patient).get(URL).json()

    assert time.monotonic() - started < 20
    assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
    assert (body["source"], body["cached"]) == ("gemini", False)
    assert len(fake_gemini.requests) == 1
    assert "Broker unavailable" not in caplog.text  # the worker did it, not the in-process fallback
    assert client_for(patient).get(URL).json()["cached"] is True
