"""Per-patient cache of the symptoms app's read responses (lists, details, charts).

A patient reading their own data gets the stored answer while nothing changed: the key holds the
patient's data version (replaced by signals on every symptom, mood, medication and symptom-link
write, see ``symptoms.insights.signals``), their time zone and local date (so "today" rolls over),
and the full path with its query string. Doctors' reads (audited), paginated pages and anything
but a 200 are never cached. While Redis is down (the failover cache in use) nothing is cached,
because another process could not see a version change. ``READ_CACHE_SECONDS`` (0 = off) bounds
how long an entry lives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from symptoms.insights import cache as insight_cache


def _key(request: Request) -> str | None:
    user = request.user
    if settings.READ_CACHE_SECONDS <= 0 or not (user.is_authenticated and user.is_patient):
        return None
    params = request.query_params
    if params.get("patient", str(user.pk)) != str(user.pk) or "limit" in params or "offset" in params:
        return None
    store = insight_cache.store()
    if getattr(store, "primary_is_down", lambda: False)():
        return None
    version = insight_cache.data_version(user.pk)
    return f"read:{user.pk}:{version}:{user.timezone}:{user.local_today().isoformat()}:{request.get_full_path()}"


def respond(request: Request, build: Callable[[], Response]) -> Response:
    key = _key(request)
    if key is None:
        return build()
    store = insight_cache.store()
    data = store.get(key)
    if data is not None:
        return Response(data)
    response = build()
    if response.status_code == 200:
        store.set(key, response.data, timeout=settings.READ_CACHE_SECONDS)
    return response


def cached_patient_read(method):
    """Decorate a view handler (``def get(self, request, ...)``) to answer from the cache."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        return respond(request, lambda: method(self, request, *args, **kwargs))

    return wrapper
