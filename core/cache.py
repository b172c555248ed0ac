"""A cache that survives its server: Redis first, this process's memory while Redis is down;
and the embedded mode's file cache, which culls once per ``set_many``.

When a call to the primary cache fails (Redis stopped, or frozen and timing out), the failure
opens a short circuit: for ``COOLDOWN`` seconds every call goes straight to the fallback, so a dead
Redis costs one timeout per process per cooldown instead of one per call. Requests keep being
served (a cache miss is only slower) and rate-limit counters keep counting, per process, until
Redis answers again.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

try:  # the errors a Redis client raises when its server is gone or silent
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    PRIMARY_ERRORS: tuple[type[BaseException], ...] = (
        ConnectionInterrupted,
        RedisConnectionError,
        RedisTimeoutError,
        OSError,
    )
except ImportError:  # pragma: no cover - django-redis is a pinned dependency
    PRIMARY_ERRORS = (OSError,)

_state_lock = threading.Lock()
_down_until: dict[str, float] = {}


class FailoverCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self.primary = options["PRIMARY"]
        self.fallback = options["FALLBACK"]
        self.cooldown = float(options.get("COOLDOWN", 10))

    def primary_is_down(self) -> bool:
        return time.monotonic() < _down_until.get(self.primary, 0.0)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.primary_is_down():
            try:
                return getattr(caches[self.primary], method)(*args, **kwargs)
            except PRIMARY_ERRORS as exc:
                with _state_lock:
                    _down_until[self.primary] = time.monotonic() + self.cooldown
                logger.warning("cache %r unavailable (%s); using %r", self.primary, type(exc).__name__, self.fallback)
        return getattr(caches[self.fallback], method)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version)

    def clear(self):
        caches[self.fallback].clear()
        return self._call("clear")

    def close(self, **kwargs):
        for alias in (self.primary, self.fallback):
            caches[alias].close(**kwargs)


class FileCache(FileBasedCache):
    """Django's file cache, except that ``set_many`` culls once for all its keys. Every write of
    ``FileBasedCache`` lists the whole directory to decide whether to cull (about 10 ms at 8,000
    entries), so the sweep replacing the data versions of a batch of 1,000 patients took 10 s.
    The directory may exceed ``MAX_ENTRIES`` by one ``set_many`` until the next write culls."""

    _cull_paused = False  # per instance, and Django keeps one cache instance per thread

    def _cull(self) -> None:
        if not self._cull_paused:
            super()._cull()

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        self._cull()
        self._cull_paused = True
        try:
            for key, value in data.items():
                self.set(key, value, timeout, version)
        finally:
            self._cull_paused = False
        return []


def delete_matching(cache: BaseCache, pattern: str) -> bool:
    """Delete every key of ``cache`` matching the glob ``pattern`` (``read:42:*``).

    Redis (django-redis ``delete_pattern``) and this process's memory can list their keys; a
    ``FailoverCache`` clears both of its stores. Returns False for a store that cannot list its
    keys (the file cache of the embedded mode): there, entries become unreachable once their
    version key is gone and expire on their own.
    """
    if isinstance(cache, FailoverCache):
        done = delete_matching(caches[cache.fallback], pattern)
        if not cache.primary_is_down():
            try:
                done = delete_matching(caches[cache.primary], pattern) and done
            except PRIMARY_ERRORS:
                logger.warning("cache %r unavailable while deleting keys", cache.primary)
                return False
        return done
    if hasattr(cache, "delete_pattern"):  # django-redis: applies the key prefix and version
        cache.delete_pattern(pattern)
        return True
    if isinstance(cache, LocMemCache):
        full = cache.make_key(pattern)
        with cache._lock:
            for key in [k for k in cache._cache if fnmatch.fnmatchcase(k, full)]:
                cache._delete(key)
        return True
    return False
