from __future__ import annotations

import pytest

from symptoms.insights import cache as insight_cache
from symptoms.insights.tests.fake_gemini import FakeGemini


@pytest.fixture(autouse=True)
def _clean_insights_cache(settings):
    settings.GEMINI_API_KEY = ""
    insight_cache.store().clear()
    yield
    insight_cache.store().clear()


@pytest.fixture
def fake_gemini(settings):
    """The real SDK pointed at a local fake Gemini server, with short time budgets."""
    server = FakeGemini().start()
    settings.GEMINI_API_KEY = "test-key-not-a-secret"
    settings.GEMINI_MODEL = "gemini-test"
    settings.GEMINI_BASE_URL = server.base_url
    settings.GEMINI_TIMEOUT_SECONDS = 1.0
    settings.INSIGHTS_WAIT_SECONDS = 3.0
    yield server
    server.stop()
