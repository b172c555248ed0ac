"""GET /api/meta/: public, and free of database and cache work (it is the benchmark's ceiling)."""

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/meta/", "/api/meta"])
def test_meta_is_public_and_names_the_api(anon, settings, path):
    response = anon.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"name": "MediTrack API", "version": settings.SPECTACULAR_SETTINGS["VERSION"]}


def test_meta_ignores_a_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon.get("/api/meta/").status_code == 200


def test_meta_touches_neither_database_nor_cache(anon, django_assert_num_queries, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("GET /api/meta/ must not use the cache")

    for alias in caches.settings:
        for method in ("get", "set", "add", "get_many", "incr", "delete"):
            monkeypatch.setattr(caches[alias], method, refuse)
    with django_assert_num_queries(0):
        assert anon.get("/api/meta/").status_code == 200


def test_meta_is_read_only(anon):
    assert anon.post("/api/meta/", {}, format="json").status_code == 405
