"""JWT authentication (simplejwt), loading the user and their doctor in one query."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication

from accounts.models import User


class _UsersWithDoctor:
    """What simplejwt's ``get_user`` needs of a user model: ``objects.get`` and ``DoesNotExist``."""

    DoesNotExist = User.DoesNotExist
    objects = User.objects.select_related("assigned_doctor")


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's checks unchanged (token, user exists and is active); the profile and every
    serializer that names the assigned doctor then need no second query."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithDoctor


class JWTAuthenticationScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer-JWT scheme ("jwtAuth") drf-spectacular documents for simplejwt."""

    target_class = "accounts.authentication.JWTAuthentication"
