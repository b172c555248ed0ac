from __future__ import annotations

import pytest

from notifications import live, services, webpush
from notifications.tests.fakepush import FakeBrowser, FakePushService


@pytest.fixture(autouse=True)
def _fresh_process_state():
    webpush.forget_keys()
    services.forget_push_check()
    live.forget_listener_check()
    yield
    webpush.forget_keys()
    services.forget_push_check()
    live.forget_listener_check()


@pytest.fixture
def push_service(settings):
    settings.WEBPUSH_ALLOW_PRIVATE_ENDPOINTS = True  # the fake service is on 127.0.0.1, plain http
    service = FakePushService()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def browser() -> FakeBrowser:
    return FakeBrowser()
