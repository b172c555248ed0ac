"""Per-patient data versions, the cache of a patient's own reads built on them, and the one
place that keeps both true.

The data version of a patient is a random token replaced on every write to their data. Their
data is every model whose manager is a ``PatientScopedQuerySet`` (symptoms, moods, medications,
doses) and the many-to-many links of those models: :func:`connect_receivers` (called once at
start-up) replaces the version on each save, delete and link change. Bulk writes send no signals,
so the code that makes them calls :func:`data_changed` with the patients they touched (the
reminder sweep does). AI insights and the read cache key on the version, so a change is seen at
once. It lives in the ``reads`` cache alias, which web and worker processes share (Redis, or
files in the embedded mode).

A patient reading their own data gets the stored answer while nothing changed: the key holds the
data version, their time zone and local date (so "today" rolls over), and the full path with its
query string. Doctors' reads (audited), paginated pages and anything but a 200 are never cached.
While Redis is down (the failover cache in use) nothing is cached, because another process could
not see a version change. ``READ_CACHE_SECONDS`` (0 = off) bounds how long an entry lives.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import subject
from accounts.models import PatientScopedQuerySet
from core.cache import delete_matching

STORE_ALIAS = "reads"


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


def bump_versions(patient_ids: Iterable[int]) -> None:
    store().set_many({_version_key(pk): uuid.uuid4().hex for pk in patient_ids}, timeout=None)


def data_changed(*patient_ids: int | None) -> None:
    """A write to these patients' data (call it after the write): replace their versions now and,
    inside a transaction, again after the commit, so a read that ran on the old data while the
    write was in flight cannot stay cached. Outside a transaction the write has committed
    already, so once is enough (the sweep's bulk writes call this once per batch)."""
    ids = {pk for pk in patient_ids if pk is not None}
    if not ids:
        return
    bump_versions(ids)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: bump_versions(ids))


# --- The receivers: every write to a patient's rows -------------------------------------------

# Patients whose rows are being deleted wholesale (their account): no version per row, the
# deletion drops the version and every cached read once (``forget_patient``).
_unversioned: ContextVar[frozenset[int]] = ContextVar("readcache_unversioned", default=frozenset())


@contextlib.contextmanager
def unversioned_writes(patient_id: int) -> Iterator[None]:
    token = _unversioned.set(_unversioned.get() | {patient_id})
    try:
        yield
    finally:
        _unversioned.reset(token)


def _row_written(sender, instance, **kwargs) -> None:
    if instance.patient_id not in _unversioned.get():
        data_changed(instance.patient_id)


def _links_changed(sender, instance, action: str, **kwargs) -> None:
    # Either side may be the instance (symptom.related_medications / medication.symptoms); both
    # belong to the same patient.
    if action in {"post_add", "post_remove", "post_clear"} and instance.patient_id not in _unversioned.get():
        data_changed(instance.patient_id)


def patient_data_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model._default_manager.get_queryset().__class__, PatientScopedQuerySet)
    ]


def connect_receivers() -> None:
    for model in patient_data_models():
        label = model._meta.label_lower
        post_save.connect(_row_written, sender=model, dispatch_uid=f"readcache.saved.{label}")
        post_delete.connect(_row_written, sender=model, dispatch_uid=f"readcache.deleted.{label}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_links_changed, sender=through, dispatch_uid=f"readcache.links.{through._meta.label}")


# --- The read cache ---------------------------------------------------------------------------


def _key(request: Request) -> str | None:
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


def cached_patient_read(handler):
    """Decorate a view handler (``def get(self, request, ...)``) to answer from the cache."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        return respond(request, lambda: handler(self, request, *args, **kwargs))

    return wrapper


def forget_patient(patient_id: int) -> None:
    """The account is gone: drop its data version and every cached read of it."""
    cache = store()
    cache.delete(_version_key(patient_id))
    delete_matching(cache, f"read:{patient_id}:*")
