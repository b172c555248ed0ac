"""JWT authentication (simplejwt): the user and their doctor, read in one query per request
(``accounts.selectors.user_with_doctor``).

The user is read from the database on every request, never from a cache, so a deactivated or
deleted account, or one whose password changed (``CHECK_REVOKE_TOKEN``: an access token carries a
hash of the password it was issued under), is refused by every process at once. It is one
round trip, the same as a cache would cost (docs/performance.md).
"""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication

from accounts.models import User
from accounts.selectors import user_with_doctor


class _Users:
    """What simplejwt's ``get_user`` needs of a user model (``objects.get`` and ``DoesNotExist``),
    answered by ``accounts.selectors.user_with_doctor``."""

    DoesNotExist = User.DoesNotExist

    class objects:
        @staticmethod
        def get(*, id: int) -> User:
            user = user_with_doctor(id)
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
