"""Insight cache keys, in the shared ``reads`` cache alias (``accounts.readcache``).

A result lives under ``result:<patient>:<days>:<local end date>:<data version>``. The data
version (``accounts.readcache``) is replaced whenever the patient's symptoms, moods or
medications change, so new data never reads an old answer; the end date rolls the window over
at the patient's midnight. Nothing here touches the database.
"""

from __future__ import annotations

import datetime
from typing import Any

from accounts.readcache import store
from core.cache import delete_matching

FAILURE_SECONDS = 60


def result_key(patient_id: int, days: int, end: datetime.date, version: str) -> str:
    return f"result:{patient_id}:{days}:{end.isoformat()}:{version}"


def pending_key(key: str) -> str:
    return f"{key}:pending"


def failure_key(key: str) -> str:
    return f"{key}:failed"


def latest_key(patient_id: int) -> str:
    return f"latest:{patient_id}"


def get_result(key: str) -> dict[str, Any] | None:
    return store().get(key)


def put_result(key: str, payload: dict[str, Any], *, patient_id: int, timeout: int, replace: bool = True) -> bool:
    """Store ``payload``; with ``replace=False`` an existing answer wins. True when stored."""
    cache = store()
    if replace:
        cache.set(key, payload, timeout=timeout)
    elif not cache.add(key, payload, timeout=timeout):
        return False
    cache.set(latest_key(patient_id), payload, timeout=timeout)
    return True


def claim_generation(key: str, *, seconds: int) -> bool:
    """True for the one caller that should ask Gemini for ``key`` in the next ``seconds``."""
    cache = store()
    if not cache.add(pending_key(key), 1, timeout=seconds):
        return False
    cache.delete(failure_key(key))
    return True


def mark_failed(key: str) -> None:
    store().set(failure_key(key), 1, timeout=FAILURE_SECONDS)


def has_failed(key: str) -> bool:
    return bool(store().get(failure_key(key)))


def forget_patient(patient_id: int) -> None:
    """The account is gone: drop every cached insight of it (results, the latest one, claims)."""
    store().delete(latest_key(patient_id))
    delete_matching(store(), f"result:{patient_id}:*")
