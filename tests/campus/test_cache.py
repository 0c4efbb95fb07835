from __future__ import annotations

from django.core.cache import caches

from campus.cache import CampusRedisCache


def test_the_cache_reuses_one_redis_client_and_still_works():
    cache = caches["default"]
    assert isinstance(cache, CampusRedisCache)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("campus-cache-test", {"a": 1}, timeout=30)
    assert cache.get_many(["campus-cache-test", "missing"]) == {"campus-cache-test": {"a": 1}}
    cache.set("campus-cache-counter", 1, timeout=30)
    assert cache.incr("campus-cache-counter") == 2
    cache.delete_many(["campus-cache-test", "campus-cache-counter"])
    assert cache.get("campus-cache-test") is None
