"""delete_matching: every key of a pattern goes, in memory, in Redis and in both halves of the
failover cache; keys of other patterns stay."""

from __future__ import annotations

import os

import pytest
from django.core.cache import caches
from django.test import override_settings

from conftest import skip_or_fail
from core.cache import delete_matching
from core.tests.test_cache_failover import failover_caches

KEYS = ("read:7:a", "read:7:b", "read:70:a", "result:7:x", "read:8:a")


def _fill(cache) -> None:
    for key in KEYS:
        cache.set(key, 1, timeout=60)


def _left(cache) -> set[str]:
    return {key for key in KEYS if cache.get(key) is not None}


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dm"}})
def test_memory():
    cache = caches["default"]
    _fill(cache)
    assert delete_matching(cache, "read:7:*") is True
    assert _left(cache) == {"read:70:a", "result:7:x", "read:8:a"}


def test_a_file_cache_says_it_cannot(tmp_path):
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    ):
        assert delete_matching(caches["default"], "read:7:*") is False


@pytest.mark.integration
def test_redis_and_its_fallback():
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_or_fail("needs REDIS_URL")
    with override_settings(CACHES=failover_caches(url)):
        cache = caches["default"]
        _fill(cache)
        _fill(caches["local"])  # what a Redis outage left in this process's memory
        assert delete_matching(cache, "read:7:*") is True
        assert _left(caches["redis"]) == {"read:70:a", "result:7:x", "read:8:a"}
        assert _left(caches["local"]) == {"read:70:a", "result:7:x", "read:8:a"}
        caches["redis"].delete_many(KEYS)
