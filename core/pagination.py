"""Opt-in limit/offset pagination: lists are plain JSON arrays unless ``limit`` or ``offset``
is given, then ``{"count", "next", "previous", "results"}`` with ``limit`` capped at 500."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


def _non_negative_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: ["A valid integer is required."]}) from None
    if value < 0:
        raise ValidationError({name: ["Ensure this value is greater than or equal to 0."]})
    return value


class OptionalLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500

    def paginate_queryset(self, queryset, request, view=None):
        if self.limit_query_param not in request.query_params and (self.offset_query_param not in request.query_params):
            return None
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request) -> int:
        limit = _non_negative_int(request, self.limit_query_param)
        if limit is None:
            return self.default_limit
        if limit == 0:
            raise ValidationError({self.limit_query_param: ["Ensure this value is at least 1."]})
        return min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        return _non_negative_int(request, self.offset_query_param) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            name = parameter["name"]
            parameter["schema"]["minimum"] = 1 if name == self.limit_query_param else 0
            if name == self.limit_query_param:
                parameter["description"] = (
                    "Page size, 1 or more (capped at 500). Opt-in: without limit/offset the list is a plain array."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        return {
            "oneOf": [schema, envelope],
            "description": "A plain array; the paginated envelope when `limit` or `offset` is given.",
        }
