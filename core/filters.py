"""Strict query-string filtering: a value that does not parse is a 400, never silently ignored."""

from __future__ import annotations

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from core.params import MAX_ID

BOOLEANS = {"true": True, "false": False, "True": True, "False": False, "1": True, "0": False}
BLANK = "This parameter may not be blank."


class StrictFilterSet(filters.FilterSet):
    """Like ``FilterSet``, but ``?date=`` (a blank typed parameter) is a 400, not "no filter"."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if self.data.get(name) == "" and not isinstance(filter_, filters.CharFilter):
                self.form.add_error(name, BLANK)
                valid = False
        return valid


class IntegerFilter(filters.NumberFilter):
    """An integer that fits a database column (larger values are a 400, not an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "enum": list(BOOLEANS)})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """true/false (or 1/0); anything else is a 400 instead of being ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(value, value) for value in BOOLEANS])
        kwargs.setdefault("coerce", lambda value: BOOLEANS[value])
        super().__init__(*args, **kwargs)
