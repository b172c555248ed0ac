"""Usernames are unique whatever their case (enforced by the database) and never look like an
email address, so "log in with username or email" reaches exactly one account: the right one."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
TAKEN = ["A user with that username already exists."]


def register(client, username, email):
    return client.post(
        "/api/auth/register/", {"username": username, "email": email, "password": PASSWORD}, format="json"
    )


def login(client, identifier, password=PASSWORD):
    return client.post(reverse("login"), {"username": identifier, "password": password}, format="json")


@pytest.mark.parametrize("second", ["Ana", "ANA", "aNa"])
def test_a_username_differing_only_in_case_is_taken(anon, second):
    assert register(anon, "ana", "ana@example.test").status_code == 201
    response = register(anon, second, "other@example.test")
    assert response.status_code == 400
    assert response.json()["username"] == TAKEN
    assert User.objects.count() == 1


def test_renaming_to_another_accounts_username_in_other_case_is_taken(patient_client):
    PatientFactory(username="bob")
    response = patient_client.patch("/api/auth/profile/", {"username": "BOB"}, format="json")
    assert response.status_code == 400
    assert response.json()["username"] == TAKEN
    # One's own username in another case is fine.
    me = patient_client.get("/api/auth/profile/").json()["username"]
    assert patient_client.patch("/api/auth/profile/", {"username": me.upper()}, format="json").status_code == 200


def test_the_database_refuses_a_case_duplicate():
    PatientFactory(username="carol")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Carol", email="c2@example.test")


@pytest.mark.parametrize("username", ["dan@example.test", "dan@", "@dan", "other@example.test"])
def test_a_username_with_an_at_sign_is_refused(anon, username):
    PatientFactory(username="someone", email="other@example.test")
    response = register(anon, username, "dan@example.test")
    assert response.status_code == 400
    assert "username" in response.json()


def test_profile_username_cannot_become_an_email(patient_client):
    response = patient_client.patch("/api/auth/profile/", {"username": "me@example.test"}, format="json")
    assert response.status_code == 400 and "username" in response.json()


def test_login_is_case_insensitive_for_usernames(anon):
    PatientFactory(username="erin")
    assert login(anon, "ERIN").status_code == 200
    assert login(anon, "erin", "wrong-password").status_code == 401


def test_an_email_reaches_its_own_account_even_if_a_legacy_username_equals_it(anon):
    owner = PatientFactory(username="frank", email="frank@example.test")
    # An account from before usernames were checked, named like frank's email.
    User.objects.create_user(username="frank@example.test", email="mallory@example.test", password="mallory-pass-123")
    assert login(anon, "frank@example.test", "mallory-pass-123").status_code == 401
    response = login(anon, "Frank@Example.test")
    assert response.status_code == 200
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert anon.get("/api/auth/profile/").json()["id"] == owner.pk


def test_the_username_schema_states_the_pattern(anon):
    schema = anon.get("/api/schema/?format=json").json()
    username = schema["components"]["schemas"]["RegisterRequest"]["properties"]["username"]
    assert "@" not in username["pattern"]


def test_the_migration_refuses_existing_case_duplicates_loudly():
    migration = importlib.import_module("accounts.migrations.0009_username_ci_unique")
    PatientFactory(username="gina")
    migration.refuse_case_duplicate_usernames(apps, None)  # none yet: nothing to say
    with transaction.atomic():
        with connection.cursor() as cursor:  # the state before the constraint existed
            cursor.execute("DROP INDEX accounts_user_username_ci_unique")
        clash = User.objects.create(username="GINA", email="gina2@example.test")
        with pytest.raises(RuntimeError, match=rf"differ only in case.*{clash.pk}"):
            migration.refuse_case_duplicate_usernames(apps, None)
        transaction.set_rollback(True)
