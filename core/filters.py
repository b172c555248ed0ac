"""Strict query-string filtering: a value that does not parse is a 400, never silently ignored."""

from __future__ import annotations

import re

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from core.params import MAX_ID
from core.validators import validate_date_in_range

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
        # The schema states the bounds this filter enforces (drf-spectacular reads the annotation).
        bounds = {key: self.extra[arg] for key, arg in (("minimum", "min_value"), ("maximum", "max_value"))}
        self._spectacular_annotation = {
            "field": {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}
        }


class DateFilter(filters.DateFilter):
    """A ``YYYY-MM-DD`` date within the API's date range (``core.validators``); outside it, a 400."""

    def __init__(self, *args, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), validate_date_in_range]
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "enum": list(BOOLEANS)})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """true/false (or 1/0); anything else is a 400 instead of being ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(value, value) for value in BOOLEANS])
        kwargs.setdefault("coerce", lambda value: BOOLEANS[value])
        super().__init__(*args, **kwargs)


class StrictOrderingFilter(OrderingFilter):
    """DRF's ordering filter, but an unknown field is a 400 instead of being silently ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:  # blank: the default order
            allowed = self._allowed(queryset, view, request)
            if not re.fullmatch(self._pattern(allowed), raw):
                raise ValidationError(
                    {self.ordering_param: [f"Order by one of: {', '.join(allowed)} (prefix - to reverse)."]}
                )
        return super().get_ordering(request, queryset, view)

    def _allowed(self, queryset, view, request) -> list[str]:
        return sorted(name for name, _label in self.get_valid_fields(queryset, view, {"request": request}))

    @staticmethod
    def _pattern(allowed: list[str]) -> str:
        """Comma-separated allowed fields, each optionally reversed with ``-``; nothing else."""
        term = "-?(" + "|".join(re.escape(name) for name in allowed) + ")"
        return f"{term}(,{term})*"

    def get_schema_operation_parameters(self, view):
        """The fields this view orders by, as the pattern the server enforces, so a schema-driven
        client never sends one it refuses (blank: the default order)."""
        parameters = super().get_schema_operation_parameters(view)
        queryset = view.get_queryset() if hasattr(view, "get_queryset") else None
        allowed = self._allowed(queryset, view, view.request)
        if not allowed:
            return parameters
        for parameter in parameters:
            if parameter["name"] == self.ordering_param:
                parameter["schema"] = {"type": "string", "pattern": f"^({self._pattern(allowed)})?$"}
                parameter["description"] = f"Order by {', '.join(allowed)} (comma-separated; prefix - to reverse)."
        return parameters


class DjangoFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, building its form only when the query string names one of the
    filters: with none there is nothing to filter or to refuse, and building and validating the
    form was most of a plain list request's filtering cost (docs/performance.md)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or request.query_params.keys().isdisjoint(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


# The list views' backends (also REST_FRAMEWORK's default): filters, search, strict ordering.
FILTER_BACKENDS = [DjangoFilterBackend, SearchFilter, StrictOrderingFilter]
