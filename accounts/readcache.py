"""Per-patient data versions, and a cache of a patient's own read responses built on them.

The data version of a patient is a random token replaced on every write to their symptoms, moods,
medications and symptom links (signals in ``symptoms.insights.signals``); AI insights and the read
cache key on it, so a change is seen at once. It lives in the cache that web and worker processes
share (the ``insights`` alias: Redis, or files in the embedded mode).

A patient reading their own data gets the stored answer while nothing changed: the key holds the
data version, their time zone and local date (so "today" rolls over),
and the full path with its query string. Doctors' reads (audited), paginated pages and anything
but a 200 are never cached. While Redis is down (the failover cache in use) nothing is cached,
because another process could not see a version change. ``READ_CACHE_SECONDS`` (0 = off) bounds
how long an entry lives.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.response import Response

STORE_ALIAS = "insights"


def store():
    return caches[STORE_ALIAS]


def _version_key(patient_id: int) -> str:
    return f"version:{patient_id}"


def data_version(patient_id: int) -> str:
    cache = store()
    version = cache.get(_version_key(patient_id))
    if version is None:
        cache.add(_version_key(patient_id), uuid.uuid4().hex, timeout=None)
        version = cache.get(_version_key(patient_id))
    return version


def bump_version(patient_id: int) -> None:
    store().set(_version_key(patient_id), uuid.uuid4().hex, timeout=None)


def _key(request: Request) -> str | None:
    user = request.user
    if settings.READ_CACHE_SECONDS <= 0 or not (user.is_authenticated and user.is_patient):
        return None
    params = request.query_params
    if params.get("patient", str(user.pk)) != str(user.pk) or "limit" in params or "offset" in params:
        return None
    if getattr(store(), "primary_is_down", lambda: False)():
        return None
    version = data_version(user.pk)
    return f"read:{user.pk}:{version}:{user.timezone}:{user.local_today().isoformat()}:{request.get_full_path()}"


def respond(request: Request, build: Callable[[], Response]) -> Response:
    key = _key(request)
    if key is None:
        return build()
    data = store().get(key)
    if data is not None:
        return Response(data)
    response = build()
    if response.status_code == 200:
        store().set(key, response.data, timeout=settings.READ_CACHE_SECONDS)
    return response


def cached_patient_read(method):
    """Decorate a view handler (``def get(self, request, ...)``) to answer from the cache."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        return respond(request, lambda: method(self, request, *args, **kwargs))

    return wrapper
