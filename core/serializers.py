"""Strict JSON input: a body value must have the JSON type the schema promises.

DRF coerces by default (``"notes": 0`` becomes ``"0"``, ``"is_active": 1`` becomes ``True``,
``"severity": "5"`` becomes ``5``). For a health API that silently accepts junk, that is a bug:
input serializers mix this in so such values are a 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers


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
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
