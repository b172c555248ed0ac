"""Who is the client? The socket address, unless trusted proxies are declared."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's IP address.

    With ``TRUSTED_PROXY_COUNT = 0`` this is the socket address and ``X-Forwarded-For`` is
    ignored, so a forged header cannot change it. With N trusted proxies, each appends the
    address it saw to ``X-Forwarded-For``; the client is the N-th entry from the right (anything
    to the left of it was written by the client and is not trusted).
    """
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
