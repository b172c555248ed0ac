"""Web Push into a real browser, offline: Firefox on the demo page, subscribed to a local push
service (``fakeautopush``), receives a due dose that MediTrack encrypted and signed.

Chromium's push service is Google's (no way to point it elsewhere); Firefox takes its push
service from a preference, so this is the browser the whole path can be tried with here: the
page subscribes (``pushManager.subscribe`` with MediTrack's VAPID key), the subscription is
saved through the API, the sweep makes the dose due, the delivery task POSTs the RFC 8291
message, and Firefox decrypts it and wakes the service worker, which shows it on the page.

Skips without Firefox (Debian's ``firefox-esr``) and marionette-driver, except under CI
(MEDITRACK_REQUIRE_SERVICES=1), which installs both and fails if they are missing.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time

import pytest

from conftest import skip_or_fail
from core.tests.servers import due_now, free_port, port_open, stop_process, wait_for
from medications import services as medication_services
from medications.models import Reminder, ReminderStatus
from notifications import services, tasks, webpush
from notifications.models import PushDelivery, PushDeliveryStatus, PushSubscription
from notifications.tests.fakeautopush import FakeAutopush

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
TIMEOUT = 60

# A quiet, offline profile: no update, telemetry or safe-browsing traffic; notifications allowed;
# the push service is the local fake (ws:// is allowed only with the testing preference).
PREFERENCES = {
    "dom.push.enabled": True,
    "dom.push.connection.enabled": True,
    "dom.push.testing.allowInsecureServerURL": True,
    "dom.serviceWorkers.enabled": True,
    "permissions.default.desktop-notification": 1,
    "app.update.enabled": False,
    "app.update.auto": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "remote.prefs.recommended": True,
}


def _pref(name: str, value) -> str:
    return f"user_pref({json.dumps(name)}, {json.dumps(value)});\n"  # user.js reads JS literals


@pytest.fixture
def firefox(tmp_path, settings):
    if not FIREFOX:
        skip_or_fail("Firefox is not installed (apt-get install firefox-esr)")
    marionette = pytest.importorskip("marionette_driver.marionette")
    settings.WEBPUSH_ALLOW_PRIVATE_ENDPOINTS = True  # the fake service is on 127.0.0.1, plain http
    autopush = FakeAutopush().start()
    port = free_port()
    profile = tmp_path / "profile"
    profile.mkdir()
    preferences = {**PREFERENCES, "dom.push.serverURL": autopush.server_url, "marionette.port": port}
    (profile / "user.js").write_text("".join(_pref(name, value) for name, value in preferences.items()))
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={"MOZ_HEADLESS": "1", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    client = None
    try:
        if not wait_for(lambda: process.poll() is not None or port_open(port), timeout=TIMEOUT):
            pytest.fail("Firefox did not open its Marionette port")
        assert process.poll() is None, stop_process(process)
        client = marionette.Marionette(host="127.0.0.1", port=port)
        client.start_session()
        yield client, autopush
    finally:
        if client is not None:
            errors = pytest.importorskip("marionette_driver.errors")
            with contextlib.suppress(errors.MarionetteException, OSError):  # the browser may be gone
                client.delete_session()
        print(stop_process(process))
        autopush.stop()


def _wait(client, script: str, timeout: float = TIMEOUT):
    """Poll ``script`` (a JS expression) in the page until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = client.execute_script(f"return {script};")
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(
        f"timed out waiting for {script}: page state {client.execute_script('return document.body.innerText;')}"
    )


def test_demo_page_in_firefox_subscribes_and_receives_a_due_dose_as_push(
    firefox, live_server, patient, monkeypatch, django_capture_on_commit_callbacks
):
    client, autopush = firefox
    By = pytest.importorskip("marionette_driver.by").By
    client.navigate(f"{live_server.url}/api/notifications/demo/")
    client.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys(patient.username)
    client.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("correct-horse-battery-staple")
    client.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    _wait(client, "!document.getElementById('controls').hidden")

    client.find_element(By.CSS_SELECTOR, "#subscribe").click()
    state = _wait(client, "document.getElementById('push-state').textContent")
    assert state.startswith("subscribed"), state
    assert autopush.hello.is_set() and len(autopush.registered) == 1
    [channel_id] = autopush.registered
    assert autopush.registered[channel_id].rstrip("=") == webpush.vapid_keys().public_key  # the page's key
    subscription = PushSubscription.objects.get(user=patient)
    assert subscription.endpoint == autopush.endpoint(channel_id)  # what Firefox's push service gave it
    patient.refresh_from_db()
    assert "push" in patient.reminder_channels  # the page turned the channel on

    enqueued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", lambda task, delivery_id: enqueued.append(delivery_id))
    due_now(patient, name="Firefox Aspirin")
    with django_capture_on_commit_callbacks(execute=True):
        medication_services.sweep()
    assert len(enqueued) == 1
    assert tasks.send_push(enqueued[0]) == "sent"

    # Firefox decrypted it (RFC 8291) and the service worker handed it to the page.
    shown = _wait(
        client,
        "Array.from(document.querySelectorAll('#events li[data-type=\"push\"]')).map(e => e.textContent).join('\\n')",
    )
    assert "Firefox Aspirin" in shown and "500 mg" in shown
    [delivery] = autopush.deliveries
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.headers["authorization"].startswith("vapid t=")
    assert wait_for(lambda: autopush.acks, timeout=10)
    assert autopush.acks[0]["code"] == 100  # the browser's word: delivered and decrypted
    assert Reminder.objects.get().status == ReminderStatus.SENT
    assert PushDelivery.objects.get().status == PushDeliveryStatus.SENT
