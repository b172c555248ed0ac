"""Live events through the real processes: the `ws` process (daphne, as the Procfile runs it), a
`celery worker` on Redis running the sweep, a WebSocket client; and Chromium on the demo page.

Skipped in a plain run on SQLite (another process cannot see the in-memory test database); a
failure under CI (MEDITRACK_REQUIRE_SERVICES=1), which runs them on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from rest_framework_simplejwt.tokens import AccessToken

from conftest import client_for
from core.tests.servers import BASE_DIR, database_url, due_now, port_open, spawn, start_worker, stop_process, wait_for
from core.tests.test_browser import browser_page  # noqa: F401 (the Chromium fixture)
from medications.models import Reminder
from medications.tests.factories import MedicationFactory, ReminderFactory
from medications.tests.test_integration import require_postgres, require_redis
from notifications import live

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WS_PORTS = range(9500, 9550)  # this branch's share of the machine's ports (the fake push service has the rest)
TIMEOUT = 30


def child_env() -> dict[str, str]:
    """What a child process needs to share this test's database, Redis, keys and local state."""
    env = {
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # the test's JWTs are valid there
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "MEDITRACK_VAR_DIR": str(Path(settings.VAR_DIR).resolve()),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


@pytest.fixture
def ws_process():
    """The Procfile's `ws` process: daphne serving config.asgi:application on 127.0.0.1."""
    require_postgres()
    port = next((p for p in WS_PORTS if not port_open(p)), None)
    assert port is not None, f"no free port in {WS_PORTS}"
    process = spawn(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=BASE_DIR,
        env={**os.environ, **child_env()},
    )
    try:
        if not wait_for(lambda: process.poll() is not None or port_open(port), timeout=TIMEOUT):
            pytest.fail("daphne did not start")
        assert process.poll() is None, stop_process(process)
        yield port
    finally:
        print(stop_process(process))


def relay_ready() -> None:
    """On the embedded default (no Redis) wait until the ws process's relay polls: its heartbeat
    is fresh, then one more poll, so it has its cursor. With Redis the group is joined before
    ``auth.ok``."""
    if not settings.LIVE_EVENTS_THROUGH_DATABASE:
        return

    def alive() -> bool:
        live.forget_listener_check()
        return live.listeners_alive()

    assert wait_for(alive, timeout=TIMEOUT), "the ws process's relay never polled"
    time.sleep(live.RELAY_INTERVAL_SECONDS * 1.5)


def closing_connections(function):
    """Run ``function`` in a helper thread and close the database connections it opened there
    (a connection left open would keep the test database from being dropped)."""

    def run() -> None:
        try:
            function()
        finally:
            connections.close_all()

    return run


async def receive_until(url: str, token: str, event_type: str, *, trigger) -> dict:
    """Connect, authenticate, run ``trigger`` (in a thread), and return the first ``event_type``."""
    import websockets

    async with websockets.connect(url, open_timeout=TIMEOUT) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        reply = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        assert reply["type"] == "auth.ok", reply
        await asyncio.to_thread(closing_connections(trigger))
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT * 2))
            if event["type"] == event_type:
                return event


def test_sweep_in_a_worker_reaches_a_websocket_client_as_dose_due(ws_process, patient):
    redis_url = require_redis()
    due_now(patient, name="Metformin")
    queue = f"it-live-{uuid.uuid4().hex[:8]}"
    worker = start_worker(queue=queue, env={**child_env(), "REDIS_URL": redis_url})
    try:
        from medications.tasks import send_due_reminders

        event = asyncio.run(
            receive_until(
                f"ws://127.0.0.1:{ws_process}/ws/events/",
                str(AccessToken.for_user(patient)),
                "dose.due",
                trigger=lambda: send_due_reminders.apply_async(queue=queue),
            )
        )
    finally:
        print(stop_process(worker, timeout=20))
    reminder = Reminder.objects.get()
    assert event["data"]["id"] == reminder.pk
    assert event["data"]["medication_name"] == "Metformin"
    assert event["data"]["status"] == "sent"


def test_an_answer_reaches_every_connected_client_of_the_patient(ws_process, patient):
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient, name="Aspirin"))
    url = f"ws://127.0.0.1:{ws_process}/ws/events/"
    token = str(AccessToken.for_user(patient))

    async def two_clients() -> list[dict]:
        async def answer() -> None:
            await asyncio.sleep(0.5)  # both sockets are in
            await asyncio.to_thread(relay_ready)
            await asyncio.to_thread(
                closing_connections(
                    lambda: client_for(patient).post(f"/api/medications/reminders/{reminder.pk}/taken/")
                )
            )

        waiting = [receive_until(url, token, "dose.updated", trigger=lambda: None) for _ in range(2)]
        results = await asyncio.gather(*waiting, answer())
        return results[:2]

    events = asyncio.run(two_clients())
    assert [e["data"]["id"] for e in events] == [reminder.pk, reminder.pk]
    assert all(e["data"]["status"] == "taken" for e in events)


def test_demo_page_in_chromium_shows_a_live_event(browser_page, ws_process, patient, settings):  # noqa: F811
    page, base, csp_violations = browser_page
    settings.WEBSOCKET_URL = f"ws://127.0.0.1:{ws_process}/ws/events/"
    reminder = ReminderFactory(medication=MedicationFactory(patient=patient, name="Browser Aspirin"))
    page.goto(f"{base}/api/notifications/demo/")
    page.fill("input[name=username]", patient.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-live=connected]", timeout=TIMEOUT * 1000)
    assert page.inner_text("#who") == patient.username
    relay_ready()
    client_for(patient).post(f"/api/medications/reminders/{reminder.pk}/taken/")
    event = page.wait_for_selector('#events li[data-type="dose.updated"]', timeout=TIMEOUT * 1000)
    assert "Browser Aspirin" in event.inner_text() and '"status":"taken"' in event.inner_text()
    assert csp_violations == []
