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


def rate_limit_wait(request: HttpRequest, *, group: str, value: str | None = None) -> int | None:
    """Count this request against ``settings.RATE_LIMITS[group]``: the seconds until the current
    window ends when it is over the limit, else None. ``value``: what is counted (default: the
    client IP)."""
    usage = get_usage(
        request,
        group=f"meditrack.{group}",
        key=_ip_key if value is None else (lambda _group, _request: value),
        rate=settings.RATE_LIMITS[group],
        method=ALL,
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        return max(1, int(usage["time_left"]))
    return None


def enforce_rate_limit(
    request: HttpRequest, *, group: str, value: str | None = None, message: str | None = None
) -> None:
    """``rate_limit_wait`` for DRF views: over the limit, raise 429.

    The DRF ``Throttled`` exception renders as JSON with a ``Retry-After`` header holding the
    seconds until the current window ends.
    """
    wait = rate_limit_wait(request, group=group, value=value)
    if wait is not None:
        raise Throttled(wait=wait, detail=message)
