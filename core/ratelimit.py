"""Rate limits on top of django-ratelimit's counters (kept in the cache): per client IP, or per
any value the caller names (an account, an email address; django-ratelimit hashes it into the
cache key)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled

from core.net import client_ip


def _ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def enforce_rate_limit(
    request: HttpRequest, *, group: str, value: str | None = None, message: str | None = None
) -> None:
    """Count this request against ``settings.RATE_LIMITS[group]``; raise 429 when over it.

    ``value``: what is counted (default: the client IP).

    The DRF ``Throttled`` exception renders as JSON with a ``Retry-After`` header holding the
    seconds until the current window ends.
    """
    usage = get_usage(
        request,
        group=f"meditrack.{group}",
        key=_ip_key if value is None else (lambda _group, _request: value),
        rate=settings.RATE_LIMITS[group],
        method=ALL,
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise Throttled(wait=max(1, int(usage["time_left"])), detail=message)
