"""Request plumbing for the API: optional trailing slashes, JSON-only errors and no-store under /api/."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import get_urlconf, is_valid_path

from core.logsafe import redact

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

_REASONS = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "Internal server error.",
}


_BODY_HEADERS = {"content-type", "content-length", "content-encoding", "content-disposition", "etag"}


def allow_html(response: HttpResponse) -> HttpResponse:
    """Mark an intentionally HTML response under /api/ (e.g. the dose-confirmation page)."""
    response.meditrack_allow_html = True
    return response


class ApiOptionalTrailingSlashMiddleware:
    """Every /api/ path answers with and without its trailing slash, for every method.

    Instead of redirecting (which would turn a POST into a GET), the path is rewritten before
    URL resolution when only the slashed form exists.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", get_urlconf())
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)


class ApiNoStoreMiddleware:
    """No response under /api/ is kept by a shared cache or the browser's history.

    API responses carry health data, personal data or tokens (login, refresh, the emailed
    confirmation page): ``Cache-Control: no-store`` on every one, errors included, unless the view
    chose its own caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX) and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


class ApiJsonErrorsMiddleware:
    """Errors under /api/ are JSON, never an HTML page (not even Django's debug pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path_info.startswith(API_PREFIX)
            and response.status_code >= 400
            and not getattr(response, "meditrack_allow_html", False)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = _REASONS.get(response.status_code, response.reason_phrase or "Error.")
            json_response = JsonResponse({"detail": detail}, status=response.status_code)
            # Only the body changes: CORS, CSP, X-Frame-Options, Allow, Retry-After … all stay, so
            # an error carries every header a success would (a browser client can read it).
            for header, value in response.items():
                if header.lower() not in _BODY_HEADERS:
                    json_response[header] = value
            json_response.cookies = response.cookies
            return json_response
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX):
            return None
        if isinstance(exception, (Http404, PermissionDenied, SuspiciousOperation)):
            return None  # Django turns these into 404/403/400; __call__ makes them JSON.
        if isinstance(exception, (OperationalError, InterfaceError)):
            # The database is unreachable (down, restarting, out of connections): say so quickly
            # and let the client retry; Django reconnects by itself on a later request.
            logger.warning(
                "database unavailable on %s %s: %s",
                request.method,
                redact(request.path_info),
                type(exception).__name__,
            )
            response = JsonResponse(
                {"detail": "The database is temporarily unavailable; try again shortly."}, status=503
            )
            response["Retry-After"] = "5"
            return response
        logger.exception("Unhandled error on %s %s", request.method, redact(request.path_info))
        return JsonResponse({"detail": _REASONS[500]}, status=500)
