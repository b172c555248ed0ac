"""The embedded mode's file cache: ``set_many`` lists the directory once, and culling still works."""

import pytest
from django.core.cache import caches

from core.cache import FileCache


def test_set_many_lists_the_directory_once_and_a_later_write_still_culls(tmp_path, monkeypatch):
    cache = FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    listings: list[int] = []
    listed = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or listed())

    first = {f"first-{i}": i for i in range(8)}
    cache.set_many(first, timeout=None)
    assert listings == [1]  # FileBasedCache: one listing per key
    assert cache.get_many(list(first)) == first
    cache.set_many({f"second-{i}": i for i in range(8)}, timeout=None)  # 8 < 10: no cull yet
    assert len(listings) == 2 and len(listed()) == 16

    cache.set("one-more", 1)  # over MAX_ENTRIES: this write culls half
    assert len(listed()) == 9
    assert cache.get("one-more") == 1


def test_the_embedded_reads_alias_is_this_file_cache(settings):
    if settings.REDIS_URL:
        pytest.skip("with REDIS_URL the reads alias is Redis (failing over to memory)")
    assert isinstance(caches["reads"], FileCache)
