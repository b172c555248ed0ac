"""Each process checks an access token's signature once (accounts.authentication); a remembered
token is refused as a new one would be."""

import datetime

import jwt
import pytest
from rest_framework_simplejwt.tokens import AccessToken as IssuedAccessToken

from accounts import authentication
from accounts.models import User
from conftest import client_for

pytestmark = pytest.mark.django_db
PROFILE = "/api/auth/profile/"


@pytest.fixture(autouse=True)
def _forget_tokens():
    authentication.AccessToken._token_backend._verified.clear()


def _bearer(client, token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_is_verified_once_per_process(patient, monkeypatch):
    calls = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: calls.append(1) or decode(*a, **k))
    client = client_for(patient)
    for _ in range(3):
        assert client.get(PROFILE).status_code == 200
    assert len(calls) == 1


def test_a_remembered_token_is_refused_once_expired_as_an_unseen_one_is(patient, monkeypatch, anon):
    token = IssuedAccessToken.for_user(patient)
    assert _bearer(anon, str(token)).get(PROFILE).status_code == 200  # remembered
    expired_at = token["exp"]
    monkeypatch.setattr(authentication.time, "time", lambda: float(expired_at))
    remembered = anon.get(PROFILE)

    unseen = IssuedAccessToken.for_user(patient)
    unseen.set_exp(from_time=unseen.current_time - datetime.timedelta(hours=2))  # expired an hour ago
    fresh = _bearer(client_for(None), str(unseen)).get(PROFILE)
    assert remembered.status_code == fresh.status_code == 401
    assert remembered.content == fresh.content
    assert remembered.json()["messages"][0]["message"] == "Token is expired"


def test_a_forged_signature_is_refused_though_the_token_is_remembered(patient, anon):
    token = str(IssuedAccessToken.for_user(patient))
    assert _bearer(anon, token).get(PROFILE).status_code == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert _bearer(anon, forged).get(PROFILE).status_code == 401


def test_remembering_changes_nothing_about_who_is_refused(patient, anon):
    token = str(IssuedAccessToken.for_user(patient))
    assert _bearer(anon, token).get(PROFILE).status_code == 200
    User.objects.filter(pk=patient.pk).update(is_active=False)
    assert anon.get(PROFILE).status_code == 401  # the user is read on every request


def test_the_memory_is_bounded(patient):
    backend = authentication.AccessToken._token_backend
    for _ in range(backend.size + 5):
        backend.decode(str(IssuedAccessToken.for_user(patient)))
    assert len(backend._verified) <= backend.size
