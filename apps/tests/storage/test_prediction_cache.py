"""Prediction cache: hit/miss/TTL/LRU in process and in Redis, and Redis-down fallback."""

from __future__ import annotations

import logging

import pytest

from florai.cache import InProcessLRUCache, RedisPredictionCache, prediction_key
from florai.storage.redis_connection import redis_client

PREDICTION = {"top": [[3, 0.91], [7, 0.05]], "model": "identify-mobilenet"}


class FakeClock:
    def __init__(self, now: float = 50.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_key_separates_model_versions():
    assert prediction_key("identify", "1.0.0", "ab" * 32, "alice") != prediction_key(
        "identify", "1.0.1", "ab" * 32, "alice"
    )


def test_in_process_hit_miss_ttl():
    clock = FakeClock()
    cache = InProcessLRUCache(max_entries=10, ttl_s=60, clock=clock)
    key = prediction_key("identify", "1", "ab" * 32, "alice")
    assert cache.get(key) is None
    cache.set(key, PREDICTION)
    hit = cache.get(key)
    assert hit == PREDICTION
    hit["top"].clear()  # callers cannot corrupt the cached entry
    assert cache.get(key) == PREDICTION
    clock.now += 59.9
    assert cache.get(key) == PREDICTION
    clock.now += 0.1
    assert cache.get(key) is None and len(cache) == 0


def test_in_process_evicts_least_recently_used():
    cache = InProcessLRUCache(max_entries=2, ttl_s=60)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_in_process_refuses_what_is_not_json():
    with pytest.raises(TypeError):
        InProcessLRUCache().set("k", object())


def test_redis_hit_miss_and_ttl(redis_url):
    client = redis_client(redis_url)
    cache = RedisPredictionCache(client, ttl_s=30)
    key = prediction_key("diagnose", "2", "cd" * 32, "alice")
    assert cache.get(key) is None
    cache.set(key, PREDICTION)
    assert cache.get(key) == PREDICTION
    assert RedisPredictionCache(redis_client(redis_url)).get(key) == PREDICTION  # shared by pods
    assert 29_000 < client.pttl(cache.prefix + key) <= 30_000
    assert len(cache.fallback) == 0


def test_redis_down_falls_back_and_never_raises(redis_server, redis_url, caplog):
    clock = FakeClock()
    cache = RedisPredictionCache(redis_client(redis_url), ttl_s=30, recheck_after_s=5, clock=clock)
    caplog.set_level(logging.WARNING, logger="florai.cache")
    cache.set("before", PREDICTION)

    redis_server.stop()
    assert cache.get("before") is None  # Redis entries are out of reach: a miss, not an error
    cache.set("during", PREDICTION)
    assert cache.degraded and cache.get("during") == PREDICTION  # served in process
    assert sum("unreachable" in r.message for r in caplog.records) == 1

    redis_server.start()
    clock.now += 5
    assert cache.get("during") is None  # back on (the restarted, empty) Redis
    assert not cache.degraded
    cache.set("after", PREDICTION)
    assert cache.get("after") == PREDICTION
    assert sum("reachable again" in r.message for r in caplog.records) == 1
