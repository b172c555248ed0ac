"""Request plumbing for the API: optional trailing slashes, JSON-only errors and no-store under /api/."""

from __future__ import annotations

import functools
import logging

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.signals import setting_changed
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


# --- Content-Security-Policy ------------------------------------------------------------------

# What a response sets to bring CSP parts of its own (django-csp's decorators, or by hand).
_OWN_CSP_PARTS = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")


@functools.cache
def _settings_policies() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, the settings' policy, the response attribute exempting from it, excluded path
    prefixes), for the policy and the report-only one: what django-csp builds from the settings."""
    policies = []
    for header, setting, report_only, exempt in (
        (HEADER, "CONTENT_SECURITY_POLICY", False, "_csp_exempt"),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True, "_csp_exempt_ro"),
    ):
        prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
        policies.append((header, build_policy(report_only=report_only), exempt, prefixes))
    return tuple(policies)


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="core.middleware.csp_settings")


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, building the settings' policy once per process.

    django-csp builds both headers from the settings for every response (a copy of each
    directive, then the joined string, twice: the policy and the report-only one), though they
    only change when a response brings parts of its own (``_csp_update`` …) or a nonce was used.
    Those responses still take django-csp's own way; every other one gets the same headers, built
    once (``core/tests/test_security_headers.py`` compares the two).
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, name) for name in _OWN_CSP_PARTS):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:  # django-csp leaves debug pages alone
            return response
        for header, policy, exempt, prefixes in _settings_policies():
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
