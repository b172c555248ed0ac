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
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import subject
from core.cache import delete_matching

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


def data_changed(patient_id: int | None) -> None:
    """A write to this patient's data: replace the version now and again after the commit, so a
    read that ran on the old data while the write was in flight cannot stay cached."""
    if patient_id is None:
        return
    bump_version(patient_id)
    transaction.on_commit(lambda: bump_version(patient_id))


def _key(request: Request, max_age: int | None) -> str | None:
    user = request.user
    if settings.READ_CACHE_SECONDS <= 0 or not (user.is_authenticated and user.is_patient):
        return None
    params = request.query_params
    if "limit" in params or "offset" in params:
        return None
    subject.subject(request)  # a patient's subject is themselves (naming anyone else: a 404)
    if getattr(store(), "primary_is_down", lambda: False)():
        return None
    version = data_version(user.pk)
    # Data the reminder sweep changes in bulk (no signals) is cached per time bucket instead.
    bucket = f":{int(time.time() // max_age)}" if max_age else ""
    return (
        f"read:{user.pk}:{version}:{user.timezone}:{user.local_today().isoformat()}{bucket}:{request.get_full_path()}"
    )


def respond(request: Request, build: Callable[[], Response], *, max_age: int | None = None) -> Response:
    key = _key(request, max_age)
    if key is None:
        return build()
    data = store().get(key)
    if data is not None:
        return Response(data)
    response = build()
    if response.status_code == 200:
        timeout = min(settings.READ_CACHE_SECONDS, max_age) if max_age else settings.READ_CACHE_SECONDS
        store().set(key, response.data, timeout=timeout)
    return response


def cached_patient_read(method=None, *, max_age: int | None = None):
    """Decorate a view handler (``def get(self, request, ...)``) to answer from the cache.

    ``max_age``: for data that also changes without a version change (the sweep's bulk reminder
    updates), an entry is used for at most that many seconds."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(self, request, *args, **kwargs):
            return respond(request, lambda: handler(self, request, *args, **kwargs), max_age=max_age)

        return wrapper

    return decorate(method) if method is not None else decorate


def forget_patient(patient_id: int) -> None:
    """The account is gone: drop its data version and every cached read of it."""
    cache = store()
    cache.delete(_version_key(patient_id))
    delete_matching(cache, f"read:{patient_id}:*")
