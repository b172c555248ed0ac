"""JWT authentication (simplejwt): the user and their doctor, read in one query per request
(``accounts.selectors.user_with_doctor``).

The user is read from the database on every request, never from a cache, so a deactivated or
deleted account, or one whose password changed (``CHECK_REVOKE_TOKEN``: an access token carries a
hash of the password it was issued under), is refused by every process at once. It is one
round trip, the same as a cache would cost (docs/performance.md).

What each process remembers is the tokens whose signature it has checked: a client sends the
same access token with every request of its hour, and verifying it again (PyJWT re-validates
the key, the encoding and the HMAC each time) cost more CPU than reading the user. A remembered
token is still refused once expired, with PyJWT's own words; everything else PyJWT checks is a
property of the token's bytes, which are the key.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User
from accounts.selectors import user_with_doctor


class VerifiedTokenBackend(TokenBackend):
    """simplejwt's backend, remembering (per process, up to ``size`` tokens) the payloads of the
    tokens whose signature it verified."""

    def __init__(self, *args: Any, size: int = 4096, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.size = size
        self._verified: dict[bytes | str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def decode(self, token, verify: bool = True) -> dict[str, Any]:
        if not verify:
            return super().decode(token, verify=False)
        payload = self._verified.get(token)
        if payload is None:
            payload = super().decode(token, verify=True)  # raises for anything not valid now
            with self._lock:
                if len(self._verified) >= self.size:
                    self._verified.clear()
                self._verified[token] = payload
        elif payload["exp"] <= time.time() - self.get_leeway().total_seconds():  # as PyJWT compares
            self._verified.pop(token, None)
            raise TokenBackendExpiredToken(_("Token is expired"))
        return dict(payload)


class AccessToken(tokens.AccessToken):
    """The access token authentication accepts (``AUTH_TOKEN_CLASSES``): simplejwt's, decoded by
    the remembering backend. Same name, so a refusal's ``token_class`` reads the same."""

    _token_backend = VerifiedTokenBackend(
        api_settings.ALGORITHM,
        api_settings.SIGNING_KEY,
        api_settings.VERIFYING_KEY,
        api_settings.AUDIENCE,
        api_settings.ISSUER,
        api_settings.JWK_URL,
        api_settings.LEEWAY,
        api_settings.JSON_ENCODER,
    )


class _Users:
    """What simplejwt's ``get_user`` needs of a user model (``objects.get`` and ``DoesNotExist``),
    answered by ``accounts.selectors.user_with_doctor``."""

    DoesNotExist = User.DoesNotExist

    class objects:
        @staticmethod
        def get(*, id: int | str) -> User:
            try:
                user_id = int(id)  # the token's claim: the id as a string
            except (TypeError, ValueError):
                raise User.DoesNotExist from None
            user = user_with_doctor(user_id)
            if user is None:
                raise User.DoesNotExist
            return user


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's checks unchanged (token valid, user exists and is active, password unchanged);
    the profile and every serializer that names the assigned doctor need no second query."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _Users


class JWTAuthenticationScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer-JWT scheme ("jwtAuth") drf-spectacular documents for simplejwt."""

    target_class = "accounts.authentication.JWTAuthentication"
