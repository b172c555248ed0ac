"""JWT authentication (simplejwt): the user and their doctor in one query, then from the cache.

Every authenticated request needs its user; reading it from the cache (Redis in production)
instead of PostgreSQL saves a query per request. The entry is dropped whenever the user, or
their doctor, is written (``accounts.signals``), and lives at most ``AUTH_USER_CACHE_SECONDS``
(60 s), which bounds staleness should an invalidation be missed (e.g. while Redis is down and
each process falls back to its own memory).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User


class _UsersWithDoctor:
    """What simplejwt's ``get_user`` needs of a user model: ``objects.get`` and ``DoesNotExist``."""

    DoesNotExist = User.DoesNotExist
    objects = User.objects.select_related("assigned_doctor")


def user_cache_key(user_id: object) -> str:
    return f"auth-user:{user_id}"


# Written in place of a deleted account's entry: a request that read the user from the database
# just before the deletion committed cannot put it back (``cache.add`` leaves it), so the
# account's access tokens are refused at once in every process sharing the cache.
DELETED = "deleted"
DELETED_SECONDS = 600


def forget_deleted_user(user_id: int) -> None:
    cache.set(user_cache_key(user_id), DELETED, timeout=max(DELETED_SECONDS, settings.AUTH_USER_CACHE_SECONDS * 2))


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's checks unchanged (token valid, user exists and is active); the profile and
    every serializer that names the assigned doctor need no second query."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithDoctor

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user == DELETED:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if user is None:
            user = super().get_user(validated_token)
            cache.add(key, user, timeout=settings.AUTH_USER_CACHE_SECONDS)
        elif not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user


class JWTAuthenticationScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer-JWT scheme ("jwtAuth") drf-spectacular documents for simplejwt."""

    target_class = "accounts.authentication.JWTAuthentication"
