import pytest
from django.urls import reverse

from accounts.models import Role, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def register(client, **overrides):
    body = {"username": "alice", "email": "Alice@Example.test", "password": PASSWORD, **overrides}
    return client.post("/api/auth/register/", body, format="json")


def test_register_returns_profile(anon):
    response = register(anon, timezone="Europe/London", first_name="Alice")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "alice"
    assert body["role"] == "patient"
    assert body["timezone"] == "Europe/London"
    assert body["assigned_doctor"] is None and body["assigned_doctor_name"] is None
    assert "password" not in body
    assert User.objects.get(username="alice").check_password(PASSWORD)


def test_login_with_username_and_with_email(anon):
    register(anon)
    for identifier in ("alice", "alice@example.test", "ALICE@example.TEST"):
        response = anon.post(reverse("login"), {"username": identifier, "password": PASSWORD}, format="json")
        assert response.status_code == 200, (identifier, response.json())
        assert set(response.json()) == {"access", "refresh"}


def test_login_failure_message_is_the_same_for_unknown_user(anon):
    register(anon)
    wrong_password = anon.post(reverse("login"), {"username": "alice", "password": "nope"}, format="json")
    unknown_user = anon.post(reverse("login"), {"username": "bob", "password": "nope"}, format="json")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()


def test_doctor_registration_is_unverified(anon):
    response = register(anon, role="doctor")
    assert response.status_code == 201
    assert User.objects.get(username="alice").role == Role.DOCTOR
    assert not User.objects.get(username="alice").is_verified_doctor
