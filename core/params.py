"""Strict query-parameter parsing: a bad value is a 400 with a message, never a 500."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.request import Request

# Database ids are 64-bit: anything larger cannot name a row (and would overflow SQLite).
MAX_ID = 2**63 - 1
# URL ids: digits only, at most 18 of them (always below MAX_ID); longer paths are a 404.
ID_PATH_REGEX = r"[0-9]{1,18}"


def validate_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query parameters ``serializer_class`` declares, validated by its fields: a 400 naming
    each bad one (a blank typed value included). Unknown parameters are ignored.

    What ``serializer_class(data=request.query_params).is_valid()`` answers, without building a
    serializer (DRF deep-copies every declared field per instance, on every request): the
    class's own field objects validate the values. Query serializers therefore hold fields only,
    no ``validate()`` methods."""
    params = request.query_params
    data: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, field in serializer_class._declared_fields.items():
        if name not in params:
            if field.required:
                errors[name] = [field.error_messages["required"]]
            elif field.default is not serializers.empty:
                data[name] = field.get_default()
            continue
        value = params[name]
        if value == "" and not isinstance(field, serializers.CharField):
            errors[name] = ["This parameter may not be blank."]
            continue
        try:
            data[name] = field.run_validation(value)
        except serializers.ValidationError as exc:
            errors[name] = exc.detail
    if errors:
        raise serializers.ValidationError(errors)
    return data


def days_serializer(*, default: int | None, maximum: int, name: str = "DaysQuery") -> type:
    """A query serializer with one ``days`` integer in ``1..maximum``."""
    field = serializers.IntegerField(
        min_value=1,
        max_value=maximum,
        required=False,
        default=default,
        allow_null=default is None,
        help_text=f"Window in days, 1–{maximum}"
        + (f" (default {default})." if default else " (all time when omitted)."),
    )
    return type(name, (serializers.Serializer,), {"days": field})


class PatientQuerySerializer(serializers.Serializer):
    patient = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Doctors: the id of an assigned patient whose data to read.",
    )


# The per-patient windows (mood trends, dashboard, report): the last N local days, default 30.
WindowDaysQuery = days_serializer(default=30, maximum=365, name="WindowDaysQuery")
# How the per-patient views document ``?patient=``.
PATIENT_REQUIRED_DOC = "Doctors: the assigned patient (`?patient=<id>`, required for doctors)."


def parse_instant(text: str) -> datetime.datetime:
    """An ISO 8601 datetime with an offset (``--at`` of the sweep command and task); a
    ValueError saying what is wrong otherwise."""
    try:
        instant = parse_datetime(text)
    except ValueError:
        instant = None
    if instant is None:
        raise ValueError(f"not an ISO 8601 datetime: {text!r}")
    if instant.tzinfo is None:
        raise ValueError("needs an offset (e.g. +00:00 or Z), so the instant is unambiguous")
    return instant
