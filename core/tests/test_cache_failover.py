"""The failover cache keeps the API (and its rate limits) working while Redis is unreachable."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from core import cache as failover_module

DEAD_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, connections are refused


def failover_caches(location):
    return {
        "default": {
            "BACKEND": "core.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "local", "COOLDOWN": 30},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "failover-test"},
    }


@pytest.fixture(autouse=True)
def _reset_circuit():
    failover_module._down_until.clear()
    yield
    failover_module._down_until.clear()


def test_dead_primary_falls_back_and_opens_the_circuit(monkeypatch):
    with override_settings(CACHES=failover_caches(DEAD_REDIS)):
        cache = caches["default"]
        primary = caches["redis"]
        calls = []
        for method in ("set", "get", "add", "incr"):
            real = getattr(primary, method)

            def counted(*args, _real=real, _method=method, **kwargs):
                calls.append(_method)
                return _real(*args, **kwargs)

            monkeypatch.setattr(primary, method, counted)
        cache.set("k", "v", 30)
        assert cache.get("k") == "v"
        assert cache.add("counter", 1, 30) is True
        assert cache.incr("counter") == 2
        assert cache.primary_is_down()
        # The mechanism, not the clock: one failed call opened the circuit, the rest never
        # touched the dead server (each would have cost a connection timeout).
        assert calls == ["set"]
        assert caches["local"].get("k") == "v"


@pytest.mark.django_db
def test_login_rate_limit_still_protects_when_redis_is_down(anon):
    with override_settings(CACHES=failover_caches(DEAD_REDIS)):
        for _ in range(10):
            response = anon.post("/api/auth/login/", {"username": "x", "password": "y"}, format="json")
            assert response.status_code == 401
        response = anon.post("/api/auth/login/", {"username": "x", "password": "y"}, format="json")
        assert response.status_code == 429


@pytest.mark.django_db
def test_health_reports_the_cache_server_not_the_fallback(anon):
    with override_settings(CACHES=failover_caches(DEAD_REDIS)):
        response = anon.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["cache"] == "error"
