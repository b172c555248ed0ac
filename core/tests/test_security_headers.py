"""Production security headers, and what clients see when the database is down."""

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_https_responses_carry_hsts_and_hardening_headers(anon):
    response = anon.get("/api/health/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_except_the_health_check(anon):
    response = anon.get("/api/auth/doctors/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert anon.get("/api/health/").status_code == 200


def test_database_outage_is_a_fast_json_503(patient_client, monkeypatch):
    from accounts import views

    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.selectors, "verified_doctors", unreachable)
    response = patient_client.get("/api/auth/doctors/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The database is temporarily unavailable; try again shortly."}
