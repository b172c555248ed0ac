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


def _csp_headers(middleware_class, *, path="/api/meta/", status=200, nonce=False, **response_attributes):
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: None)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)  # a template used the nonce
    response = HttpResponse(status=status)
    for name, value in response_attributes.items():
        setattr(response, name, value)
    middleware.process_response(request, response)
    if not nonce:
        with pytest.raises(CSPNonceError):
            str(request.csp_nonce)  # refused once the header is written, as django-csp does
    nonce_value = getattr(request, "_csp_nonce", None)
    return {k: v.replace(nonce_value, "NONCE") if nonce_value else v for k, v in response.items()}


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"path": "/api/docs/"},
        {"status": 404},
        {"status": 500},
        {"nonce": True},
        {"_csp_update": {"connect-src": ["wss://example.com"]}},
        {"_csp_replace": {"img-src": ["https://example.com"]}},
        {"_csp_exempt": True},
        {"_csp_exempt_ro": True},
    ],
    ids=repr,
)
@pytest.mark.parametrize("report_only", [False, True])
def test_csp_headers_built_once_are_django_csps(case, report_only, settings):
    """core.middleware.CSPMiddleware (the settings' policy built once per process) sets exactly
    what django-csp's middleware sets, whatever the response or the settings."""
    from csp.middleware import CSPMiddleware as DjangoCSPMiddleware

    from core.middleware import CSPMiddleware

    if report_only:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
            "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"},
            "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
        }
    built_once = _csp_headers(CSPMiddleware, **case)
    assert built_once == _csp_headers(DjangoCSPMiddleware, **case)
    assert ("Content-Security-Policy-Report-Only" in built_once) is (
        report_only and case.get("path") != "/api/docs/" and not case.get("_csp_exempt_ro")
    )
    if not case:
        assert "frame-ancestors 'none'" in built_once["Content-Security-Policy"]
