"""OpenAPI post-processing: the error answers every operation can give, and the date bounds.

Views document their success shapes and the errors specific to them; this hook adds, to every
operation that lacks them, the errors that come from shared machinery: 400 (query/body
validation), 401/403 (JWT authentication and role permissions), 404 (object ids and
``?patient=`` scoping) and 503 (database unavailable), all as JSON.
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiResponse

from core.validators import DATE_MAX, DATE_MIN

_JSON = "application/json"
_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION = {
    "type": "object",
    "description": 'Field errors (`{"field": ["message"]}`) or `{"detail": "..."}` for a malformed request.',
    "additionalProperties": True,
}
_DESCRIPTIONS = {
    "400": "Invalid query parameters or body.",
    "401": "Missing, invalid or expired access token.",
    "403": "Not allowed for this role (doctors are read-only; unverified doctors read nothing).",
    "404": "Not found, or not visible to you.",
    "503": "The database is temporarily unavailable; retry after `Retry-After` seconds.",
}


# The answers every per-patient view documents (whose data: ``accounts.subject``, ``?patient=``).
SUBJECT_BAD_QUERY = OpenApiResponse(description="A malformed query parameter, or a doctor without ?patient=.")
SUBJECT_NOT_FOUND = OpenApiResponse(description="Not found (or not yours / not your patient's).")


def _response(code: str) -> dict[str, Any]:
    ref = "#/components/schemas/ValidationError" if code == "400" else "#/components/schemas/ErrorDetail"
    return {"description": _DESCRIPTIONS[code], "content": {_JSON: {"schema": {"$ref": ref}}}}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", _DETAIL)
    schemas.setdefault("ValidationError", _VALIDATION)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            security = operation.get("security") or []
            secured = bool(security) and {} not in security
            parameters = operation.get("parameters", [])
            has_input = "requestBody" in operation or any(p.get("in") == "query" for p in parameters)
            scoped = any(p.get("in") == "path" or p.get("name") == "patient" for p in parameters)
            codes = ["503"]
            if has_input:
                codes.append("400")
            if secured:
                codes += ["401", "403"]
            if secured and scoped:
                codes.append("404")
            for code in codes:
                responses.setdefault(code, _response(code))
    return result


# --- Date bounds -------------------------------------------------------------------------------

# Every date the API accepts lies in DATE_MIN…DATE_MAX (years 1900–2100) and every datetime
# carries its UTC offset (``core.validators``, ``core.serializers``, ``core.filters``). OpenAPI has
# no minimum for a date string, so the bound is stated as a pattern (which schema-driven clients
# and fuzzers honour) and in words.
_YEAR = "(19[0-9]{2}|20[0-9]{2}|2100)"
DATE_PATTERN = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
DATETIME_PATTERN = (
    rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]+)?)?(Z|[+-][0-9]{{2}}:[0-9]{{2}})$"
)
_BOUNDS = {
    "date": (DATE_PATTERN, f"Between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."),
    "date-time": (
        DATETIME_PATTERN,
        f"On a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}, with its UTC offset (…Z or …+01:00).",
    ),
}


def _bound_dates(node: Any) -> None:
    """Give every writable date or date-time below ``node`` its pattern and a sentence."""
    if isinstance(node, list):
        for item in node:
            _bound_dates(item)
        return
    if not isinstance(node, dict):
        return
    bound = _BOUNDS.get(node.get("format"))
    if bound is not None and node.get("type") == "string" and not node.get("readOnly"):
        node.setdefault("pattern", bound[0])
        description = node.get("description", "")
        if bound[1] not in description:
            node["description"] = f"{description} {bound[1]}".strip()
    for value in node.values():
        _bound_dates(value)


def add_date_bounds(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """State the date range on every request body field and query parameter that takes a date."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: what clients send
            _bound_dates(component)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _bound_dates(parameter.get("schema"))
    return result


# --- Descriptions and order --------------------------------------------------------------------


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, describing an operation only in its own words.

    drf-spectacular falls back on the docstring of any class in the view's ancestry, so a mixin's
    note for developers (the audit mixin's, a library view's) became the public description of
    every operation that inherits it. Here an operation's description is what ``@extend_schema``
    says, or the docstring of a handler written on the view class itself; nothing inherited. The
    same holds for request and response bodies (a serializer's own docstring only).
    """

    def get_description(self) -> str:
        view_class = type(self.view)
        name = getattr(self.view, "action", None) or self.method.lower()
        handler = view_class.__dict__.get(name)
        doc = getattr(handler, "__doc__", None) if handler is not None else None
        return inspect.cleandoc(doc) if doc else ""

    def _map_basic_serializer(self, serializer, direction):
        """A body's description is its serializer's own docstring (or its ``extend_schema_serializer``
        description), never one inherited from a mixin such as ``LeanReadMixin``."""
        schema = super()._map_basic_serializer(serializer, direction)
        own = type(serializer).__dict__.get("__doc__")
        if schema.get("description") == get_doc(type(serializer)) and not own:
            del schema["description"]
        return schema


# The order operations appear in within their tag: how a newcomer meets them (the auth flow
# first: register, log in, refresh, log out, then the profile and doctor choice).
_PATH_ORDER = (
    "/api/auth/register/",
    "/api/auth/login/",
    "/api/auth/token/refresh/",
    "/api/auth/logout/",
    "/api/auth/profile/",
    "/api/auth/doctors/",
    "/api/auth/assign-doctor/",
)
_METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


def operation_order(endpoint: tuple) -> tuple:
    """``SORT_OPERATIONS`` key: the auth flow in the order above, then every path alphabetically."""
    path, _regex, method, _callback = endpoint
    rank = _PATH_ORDER.index(path) if path in _PATH_ORDER else len(_PATH_ORDER)
    return (rank, path.replace("{", "~"), _METHOD_ORDER.get(method, 5))
