"""JSON errors, optional trailing slashes, opt-in pagination and the health check."""

import pytest
from django.test import override_settings

from accounts.models import User
from accounts.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_json_404(anon, settings, debug):
    settings.DEBUG = debug
    response = anon.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_wrong_method_is_json_405(patient_client):
    response = patient_client.delete("/api/auth/access-log/")
    assert response.status_code == 405
    assert "detail" in response.json()


@override_settings(ROOT_URLCONF="core.tests.crash_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_unhandled_error_is_json_500(anon, settings, debug):
    settings.DEBUG = debug
    response = anon.get("/api/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/register/"])
def test_post_works_with_and_without_trailing_slash(anon, path):
    body = {"username": "slashy", "email": "slashy@example.test", "password": "correct-horse-battery-staple"}
    assert anon.post(path, body, format="json").status_code == 201


@pytest.mark.parametrize("method", ["get", "patch", "put"])
def test_every_method_without_slash(patient_client, patient, method):
    if method == "get":
        response = patient_client.get("/api/auth/profile")
    else:
        response = getattr(patient_client, method)(
            "/api/auth/profile", {"username": patient.username, "email": patient.email}, format="json"
        )
    assert response.status_code == 200


def test_list_is_a_plain_array_by_default(patient_client):
    DoctorFactory.create_batch(3)
    assert isinstance(patient_client.get("/api/auth/doctors/").json(), list)


def test_opt_in_pagination(patient_client):
    DoctorFactory.create_batch(3)
    body = patient_client.get("/api/auth/doctors/?limit=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    body = patient_client.get("/api/auth/doctors/?limit=2&offset=2").json()
    assert len(body["results"]) == 1 and body["next"] is None


def test_limit_is_capped_at_500(patient_client):
    User.objects.bulk_create(
        User(username=f"doc{n}", email=f"doc{n}@example.test", role="doctor", is_verified_doctor=True)
        for n in range(501)
    )
    body = patient_client.get("/api/auth/doctors/?limit=100000").json()
    assert body["count"] == 501
    assert len(body["results"]) == 500
    assert "limit=500" in body["next"]


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "limit=0", "offset=x", "offset=-5"])
def test_bad_pagination_parameters_are_400(patient_client, query):
    response = patient_client.get(f"/api/auth/doctors/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_health_ok(anon):
    response = anon.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_health_503_when_a_component_fails(anon, monkeypatch):
    from core import health

    def broken():
        raise ConnectionError("down")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = anon.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "error", "broker": "ok"}
