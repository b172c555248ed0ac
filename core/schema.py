"""OpenAPI post-processing: document the error answers every operation can give.

Views document their success shapes and the errors specific to them; this hook adds, to every
operation that lacks them, the errors that come from shared machinery: 400 (query/body
validation), 401/403 (JWT authentication and role permissions), 404 (object ids and
``?patient=`` scoping) and 503 (database unavailable), all as JSON.
"""

from __future__ import annotations

from typing import Any

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
