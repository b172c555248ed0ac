"""JWT authentication (simplejwt): the user and their doctor, read in one query per request.

The user is read from the database on every request, never from a cache, so a deactivated or
deleted account, or one whose password changed (``CHECK_REVOKE_TOKEN``: an access token carries a
hash of the password it was issued under), is refused by every process at once. It is one
round trip, the same as a cache would cost (docs/performance.md).
"""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication

from accounts.models import User


class _UsersWithDoctor:
    """What simplejwt's ``get_user`` needs of a user model: ``objects.get`` and ``DoesNotExist``."""

    DoesNotExist = User.DoesNotExist
    objects = User.objects.select_related("assigned_doctor")


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's checks unchanged (token valid, user exists and is active, password unchanged);
    the profile and every serializer that names the assigned doctor need no second query."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithDoctor


class JWTAuthenticationScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer-JWT scheme ("jwtAuth") drf-spectacular documents for simplejwt."""

    target_class = "accounts.authentication.JWTAuthentication"
