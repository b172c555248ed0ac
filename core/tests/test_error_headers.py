"""A rewritten JSON error keeps every header a success would carry; API responses are no-store."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.example.test"


def _assert_browser_headers(response):
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # a browser client can read the error
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"


@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN], ROOT_URLCONF="core.tests.crash_urls")
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/api/nowhere/", 404), ("get", "/api/post-only/", 405), ("get", "/api/crash/", 500)],
)
def test_rewritten_errors_keep_cors_frame_and_csp_headers(anon, method, path, status):
    response = getattr(anon, method)(path, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == status
    _assert_browser_headers(response)
    if status == 405:
        assert response["Allow"] == "POST"


@override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN])
def test_drf_errors_and_successes_carry_the_same_headers(patient_client, anon):
    _assert_browser_headers(patient_client.get("/api/auth/profile/", HTTP_ORIGIN=ORIGIN))
    _assert_browser_headers(anon.get("/api/auth/profile/", HTTP_ORIGIN=ORIGIN))  # 401


def test_authenticated_health_data_is_never_stored_by_a_cache(patient_client):
    for path in ("/api/auth/profile/", "/api/symptoms/", "/api/medications/", "/api/dashboard/"):
        response = patient_client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path


def test_login_tokens_are_never_stored_by_a_cache(patient, anon):
    body = {"username": patient.username, "password": "correct-horse-battery-staple"}
    response = anon.post("/api/auth/login/", body, format="json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_forwarded_proto_is_ignored_without_trusted_proxies(anon, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    response = anon.get("/api/auth/doctors/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301  # a forged header does not make plain HTTP count as HTTPS
    assert response["Location"].startswith("https://")


@pytest.mark.parametrize(("count", "expected"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")])
def test_forwarded_proto_is_honoured_only_behind_trusted_proxies(count, expected):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUSTED_PROXY_COUNT": count, "DEBUG": "0"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == expected


def test_the_emailed_pages_are_never_stored_by_a_cache(anon):
    from medications.services.doses import confirm_token
    from medications.tests.factories import ReminderFactory

    page = anon.get(f"/api/medications/reminders/confirm/{confirm_token(ReminderFactory().pk)}/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["Cache-Control"] == "no-store"
    bad = anon.get("/api/medications/reminders/confirm/not-a-token/")
    assert bad.status_code in (400, 404) and bad["Cache-Control"] == "no-store"


def test_gunicorn_as_the_procfile_runs_it_does_not_believe_a_forged_forwarded_proto():
    """Gunicorn trusts X-Forwarded-Proto from 127.0.0.1 unless told otherwise (gunicorn.conf.py)."""
    import http.client
    import os
    import sys

    from django.conf import settings

    from core.tests.servers import free_port, port_open, spawn, stop_process, wait_for

    port = free_port()
    env = {**os.environ, "DEBUG": "0", "SECURE_SSL_REDIRECT": "1", "TRUSTED_PROXY_COUNT": "0", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    process = spawn(command, cwd=settings.BASE_DIR, env=env)
    try:
        assert wait_for(lambda: port_open(port) or process.poll() is not None, timeout=60)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/auth/doctors/", headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})
        response = connection.getresponse()
        assert response.status == 301, (response.status, stop_process(process))
        assert response.getheader("Location").startswith("https://")
    finally:
        stop_process(process)
