"""Refresh tokens are spent exactly once, and die with their user or their password."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import BlacklistMixin

from accounts.models import User
from accounts.tests.factories import PatientFactory
from conftest import skip_or_fail

PASSWORD = "correct-horse-battery-staple"


def login(client, user) -> dict:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def refresh(client, token: str):
    return client.post(reverse("token-refresh"), {"refresh": token}, format="json")


@pytest.mark.django_db
def test_a_redemption_that_loses_the_race_is_401(anon, monkeypatch):
    """Simulates the concurrent winner: another request spends the token after this one has
    checked the blacklist but before it rotates. The loser must not get a second chain."""
    tokens = login(anon, PatientFactory())
    original = BlacklistMixin.check_blacklist

    def check_then_lose(self):
        original(self)
        outstanding = OutstandingToken.objects.get(jti=self["jti"])
        BlacklistedToken.objects.get_or_create(token=outstanding)  # the other request's rotation

    monkeypatch.setattr(BlacklistMixin, "check_blacklist", check_then_lose)
    response = refresh(anon, tokens["refresh"])
    assert response.status_code == 401
    assert "refresh" not in response.json()


@pytest.mark.django_db
def test_refresh_token_of_a_deleted_user_is_401(anon):
    user = PatientFactory()
    tokens = login(anon, user)
    User.objects.filter(pk=user.pk).delete()
    response = refresh(anon, tokens["refresh"])
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_refresh_token_of_a_deactivated_user_is_401(anon):
    user = PatientFactory()
    tokens = login(anon, user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert refresh(anon, tokens["refresh"]).status_code == 401


@pytest.mark.django_db
def test_a_password_set_in_the_admin_ends_every_token(anon, admin_client):
    user = PatientFactory()
    first, second = login(APIClient(), user), login(APIClient(), user)
    rotated = refresh(anon, second["refresh"]).json()  # a rotated chain dies too
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    for pair in (first, rotated):
        assert refresh(anon, pair["refresh"]).status_code == 401
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert client.get("/api/auth/profile/").status_code == 401
    # The new password logs in and its tokens work.
    fresh = anon.post(
        reverse("login"), {"username": user.username, "password": "a-new-long-passphrase-42"}, format="json"
    ).json()
    assert refresh(anon, fresh["refresh"]).status_code == 200


@pytest.mark.django_db
def test_a_password_changed_anywhere_ends_refresh_tokens(anon):
    user = PatientFactory()
    tokens = login(anon, user)
    User.objects.filter(pk=user.pk).update(password=make_password("another-long-passphrase"))
    response = refresh(anon, tokens["refresh"])
    assert response.status_code == 401


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_on_postgresql_yield_one_chain():
    """Two requests redeem one refresh token at the same moment, each on its own PostgreSQL
    connection (a thread each). Both pass the blacklist check before either writes (a barrier
    holds them there), so only the database's unique claim can tell them apart: one wins."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    tokens = login(APIClient(), PatientFactory())
    barrier = threading.Barrier(2, timeout=20)
    original = BlacklistMixin.check_blacklist
    results: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def check_then_wait(self):
        original(self)
        barrier.wait()

    def redeem():
        try:
            response = refresh(APIClient(), tokens["refresh"])
            results.append((response.status_code, response.json()))
        except BaseException as exc:  # noqa: BLE001 (a thread must report, not swallow, its error)
            errors.append(exc)
        finally:
            connection.close()

    BlacklistMixin.check_blacklist = check_then_wait
    try:
        threads = [threading.Thread(target=redeem) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        BlacklistMixin.check_blacklist = original
    assert not errors, errors
    assert sorted(status for status, _ in results) == [200, 401], results
    winner = next(body for status, body in results if status == 200)
    assert refresh(APIClient(), winner["refresh"]).status_code == 200  # the one chain goes on
