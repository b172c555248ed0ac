"""One DRF exception handler: every error under /api/ is JSON in DRF's shape."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Services raise Django's ``ValidationError``: a 400 with the field errors. List-shaped
    errors (the search and ordering filters raise ``["..."]``) become objects, so every 400 is."""
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        exc = exceptions.ValidationError({"non_field_errors": exc.detail})
    return exception_handler(exc, context)
