import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Role, User
from accounts.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def register(client, **overrides):
    body = {"username": "alice", "email": "Alice@Example.test", "password": PASSWORD, **overrides}
    return client.post("/api/auth/register/", body, format="json")


def login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, format="json")


def test_register_returns_profile(anon):
    response = register(anon, timezone="Europe/London", first_name="Alice", phone="+44 (20) 7946-0958")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "role",
        "first_name",
        "last_name",
        "phone",
        "date_of_birth",
        "timezone",
        "email_reminders_enabled",
        "reminder_channels",
        "email_digest_enabled",
        "share_medication_names",
        "notify_doctor_on_missed",
        "remind_again_minutes",
        "assigned_doctor",
        "assigned_doctor_name",
        "date_joined",
    }
    assert body["reminder_channels"] == ["email"]
    assert body["username"] == "alice"
    assert body["role"] == "patient"
    assert body["timezone"] == "Europe/London"
    assert body["assigned_doctor"] is None and body["assigned_doctor_name"] is None
    assert User.objects.get(username="alice").check_password(PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12ab34567"}, "phone"),
        ({"phone": "123"}, "phone"),
        ({"phone": "1234567890123456"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"first_name": "<b>Al</b>"}, "first_name"),
        ({"last_name": "<img src=x onerror=alert(1)"}, "last_name"),
        ({"username": "bad name!"}, "username"),
    ],
)
def test_register_validation_errors_are_400_with_the_field(anon, overrides, field):
    response = register(anon, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_html_message_is_the_contract_text(anon):
    response = register(anon, first_name="<script>x</script>")
    assert response.json() == {"first_name": ["HTML tags are not allowed in this field."]}


def test_less_than_sign_that_is_not_a_tag_is_fine(anon):
    assert register(anon, last_name="O<3").status_code == 201


def test_email_is_unique_case_insensitively(anon):
    assert register(anon).status_code == 201
    response = register(anon, username="alice2", email="ALICE@example.TEST")
    assert response.status_code == 400
    assert "email" in response.json()


def test_database_enforces_case_insensitive_email_uniqueness():
    PatientFactory(email="bob@example.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(email="BOB@EXAMPLE.TEST")


def test_missing_body_is_400(anon):
    response = anon.post("/api/auth/register/", {}, format="json")
    assert response.status_code == 400
    assert {"username", "email", "password"} <= set(response.json())


def test_malformed_json_is_400(anon):
    response = anon.post("/api/auth/register/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_login_with_username_and_with_email(anon):
    register(anon)
    for identifier in ("alice", "alice@example.test", "ALICE@example.TEST"):
        response = login(anon, identifier)
        assert response.status_code == 200, (identifier, response.json())
        assert set(response.json()) == {"access", "refresh"}


def test_login_failure_message_is_the_same_for_unknown_user(anon):
    register(anon)
    wrong_password = login(anon, "alice", "nope")
    unknown_user = login(anon, "bob", "nope")
    unknown_email = login(anon, "bob@example.test", "nope")
    assert wrong_password.status_code == unknown_user.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_user.json() == unknown_email.json()


def test_inactive_user_cannot_log_in(anon):
    register(anon)
    User.objects.filter(username="alice").update(is_active=False)
    assert login(anon, "alice").status_code == 401


def test_doctor_registration_is_unverified(anon):
    response = register(anon, role="doctor")
    assert response.status_code == 201
    user = User.objects.get(username="alice")
    assert user.role == Role.DOCTOR
    assert not user.is_verified_doctor


def test_access_token_authenticates_and_garbage_is_401(anon):
    register(anon)
    tokens = login(anon, "alice").json()
    assert anon.get("/api/auth/profile/").status_code == 401
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon.get("/api/auth/profile/").status_code == 401
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon.get("/api/auth/profile/").json()["username"] == "alice"


def test_refresh_rotates_and_a_used_refresh_token_is_401(anon):
    register(anon)
    first = login(anon, "alice").json()
    rotated = anon.post(reverse("token-refresh"), {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]
    reused = anon.post(reverse("token-refresh"), {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401
    again = anon.post(reverse("token-refresh"), {"refresh": rotated.json()["refresh"]}, format="json")
    assert again.status_code == 200


def test_logout_blacklists_the_refresh_token(anon):
    register(anon)
    tokens = login(anon, "alice").json()
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = anon.post(reverse("logout"), {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 205
    refresh = anon.post(reverse("token-refresh"), {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401


def test_logout_rejects_someone_elses_or_a_bad_token(anon):
    register(anon)
    register(anon, username="bob", email="bob@example.test")
    alice = login(anon, "alice").json()
    bob = login(anon, "bob").json()
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {alice['access']}")
    assert anon.post(reverse("logout"), {"refresh": bob["refresh"]}, format="json").status_code == 400
    assert anon.post(reverse("logout"), {"refresh": "junk"}, format="json").status_code == 400
    assert anon.post(reverse("logout"), {}, format="json").status_code == 400
    # Bob's token still works: a failed logout revoked nothing.
    assert anon.post(reverse("token-refresh"), {"refresh": bob["refresh"]}, format="json").status_code == 200


def test_logout_requires_authentication(anon):
    assert anon.post(reverse("logout"), {"refresh": "x"}, format="json").status_code == 401
