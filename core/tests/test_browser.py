"""A real browser (Debian's Chromium driven by Playwright) uses the docs as a person would.

Skips when Chromium is not installed, except under CI (MEDITRACK_REQUIRE_SERVICES=1), which
installs it and fails if it is missing.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from django.db import connections
from rest_framework_simplejwt.tokens import AccessToken

from conftest import skip_or_fail
from medications.tests.factories import MedicationFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The operation "Try it out" runs, and the tag/operation id Swagger UI uses for its element id.
TRY_IT_ELEMENT = "#operations-medications-medications_list"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    if not os.path.exists(CHROMIUM):
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the live server makes
    # happen in its own thread, so this only silences Django's check for this test thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    server = urlsplit(live_server.url)
    outside: list[str] = []
    csp_violations: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context()

        def only_this_machine(route):
            target = urlsplit(route.request.url)
            if target.scheme in ("data", "blob") or target.netloc == server.netloc:
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        context.route("**/*", only_this_machine)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        yield page, live_server.url, csp_violations
        # The connection the test's own ORM calls opened while Playwright's sync API ran (it runs
        # an event loop in this thread) is not the one the test database's teardown closes:
        # left open, it kept the database from being dropped ("accessed by other users").
        connections.close_all()
        browser.close()
    assert outside == [], f"requests tried to leave the machine: {outside}"


def test_swagger_ui_authorizes_with_a_jwt_and_runs_try_it_out(browser_page, patient):
    MedicationFactory(patient=patient, name="Browser-visible Aspirin")
    page, base, csp_violations = browser_page
    token = str(AccessToken.for_user(patient))
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector("button.authorize", timeout=60_000)
    page.click("button.authorize")
    page.fill(".modal-ux input#auth-bearer-value", token)
    page.click(".modal-ux button.modal-btn.authorize")
    page.click(".modal-ux button.btn-done")
    operation = page.locator(TRY_IT_ELEMENT)
    operation.locator(".opblock-summary").first.click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=60_000)
    assert status.inner_text().strip() == "200"
    assert "Browser-visible Aspirin" in operation.locator(".live-responses-table .microlight").first.inner_text()
    assert csp_violations == []


def test_redoc_renders(browser_page):
    page, base, csp_violations = browser_page
    page.goto(f"{base}/api/redoc/")
    page.wait_for_selector("text=MediTrack API", timeout=60_000)
    # Redoc's footer logo points at its CDN: the policy blocks it, which is the point.
    assert [v for v in csp_violations if "cdn.redoc.ly" not in v] == []


def test_admin_login_page_renders(browser_page):
    page, base, csp_violations = browser_page
    page.goto(f"{base}/admin/login/")
    assert page.locator("input[name=username]").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert csp_violations == []
