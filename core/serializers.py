"""Strict JSON input: a body value must have the JSON type the schema promises.

DRF coerces by default (``"notes": 0`` becomes ``"0"``, ``"is_active": 1`` becomes ``True``,
``"severity": "5"`` becomes ``5``). For a health API that silently accepts junk, that is a bug:
input serializers mix this in so such values are a 400 naming the field. The same mixin is the
one place that bounds dates: every date and datetime field of an input serializer takes only
``DATE_MIN``…``DATE_MAX``, and a datetime must carry its UTC offset (DRF would read a naive one in
the server's zone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from core.validators import NAIVE_DATETIME, validate_date_in_range


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expected(field: serializers.Field) -> tuple[Callable[[Any], bool], str] | None:
    if isinstance(field, serializers.BooleanField):
        return (lambda v: isinstance(v, bool)), "Must be a JSON boolean (true or false)."
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return _is_int, "Must be a JSON integer."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return (lambda v: _is_int(v) or isinstance(v, float)), "Must be a JSON number."
    if isinstance(
        field,
        serializers.CharField | serializers.DateField | serializers.DateTimeField | serializers.TimeField,
    ):
        return (lambda v: isinstance(v, str)), "Must be a JSON string."
    if isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        return (lambda v: isinstance(v, list)), "Must be a JSON array."
    return None


def _date_error(field: serializers.Field, value: str) -> str | None:
    """Why a date/datetime string is refused (out of range, or a naive datetime); None if it is not.

    A string that does not parse is left to DRF's own message."""
    try:
        if isinstance(field, serializers.DateTimeField):
            parsed = parse_datetime(value)
            if parsed is not None and parsed.tzinfo is None:
                return NAIVE_DATETIME
        elif isinstance(field, serializers.DateField):
            parsed = parse_date(value)
        else:
            return None
    except ValueError:
        return None
    if parsed is None:
        return None
    try:
        validate_date_in_range(parsed)
    except DjangoValidationError as exc:
        return exc.messages[0]
    return None


class StrictJSONTypesMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data or data[name] is None:
                    continue
                rule = _expected(field)
                if rule is not None and not rule[0](data[name]):
                    errors[name] = [rule[1]]
                elif isinstance(data[name], str) and (problem := _date_error(field, data[name])):
                    errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class LeanReadMixin:
    """Fast reads for a ModelSerializer: the same JSON, without building DRF fields per request.

    DRF builds every field of a ModelSerializer each time one is instantiated, then walks them
    per row; on hot read paths that costs more than the SQL. This mixin reads each ``Meta.fields``
    name straight from the instance (a foreign key as its id), or from ``lean_<name>(instance)``
    where the serializer defines one. Dates and datetimes stay Python objects: the orjson renderer
    writes them exactly as DRF would (``core/tests/test_lean_serializers.py`` checks that the two
    outputs are identical). Input and the OpenAPI schema still use the declared DRF fields.
    """

    _lean_plan: tuple[tuple[str, str | None], ...]

    @classmethod
    def lean_plan(cls) -> tuple[tuple[str, str | None], ...]:
        plan = cls.__dict__.get("_lean_plan")
        if plan is None:
            model = cls.Meta.model
            entries = []
            for name in cls.Meta.fields:
                if hasattr(cls, f"lean_{name}"):
                    entries.append((name, None))
                else:
                    entries.append((name, model._meta.get_field(name).attname))
            plan = tuple(entries)
            cls._lean_plan = plan
        return plan

    def to_representation(self, instance):
        return {
            name: getattr(instance, attname) if attname else getattr(self, f"lean_{name}")(instance)
            for name, attname in self.lean_plan()
        }

    def drf_representation(self, instance):
        """DRF's own output for ``instance`` (what the lean one must equal)."""
        return super().to_representation(instance)
