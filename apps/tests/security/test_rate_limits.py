"""Token buckets: refill math (in-process and the Redis Lua script), sharing, and Redis-down fallback."""

from __future__ import annotations

import logging
import threading

import pytest
import redis

from florai.security import FallbackLimiter, InProcessTokenBucket, RedisTokenBucket
from florai.security.redis_rate_limit import KEY_PREFIX
from florai.storage.redis_connection import redis_client


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _check_refill_math(limiter, clock: FakeClock) -> None:
    # rate 2/s, burst 4: four at once, then one every half second.
    assert [limiter.hit("k").allowed for _ in range(4)] == [True] * 4
    refused = limiter.hit("k")
    assert not refused.allowed and refused.retry_after == pytest.approx(0.5)
    assert refused.retry_after_header == "1"
    clock.now += 0.25
    assert limiter.hit("k").retry_after == pytest.approx(0.25)
    clock.now += 0.25
    granted = limiter.hit("k")
    assert granted.allowed and granted.remaining == 0
    clock.now += 60  # refill caps at the burst
    assert [limiter.hit("k").allowed for _ in range(5)] == [True] * 4 + [False]
    assert limiter.hit("other").allowed  # buckets are per key
    clock.now += 10
    assert limiter.hit("k", cost=4).allowed
    assert limiter.hit("k", cost=3).retry_after == pytest.approx(1.5)
    with pytest.raises(ValueError, match="cost"):
        limiter.hit("k", cost=5)  # more than the bucket holds: could never pass


def test_in_process_refill_math():
    clock = FakeClock()
    _check_refill_math(InProcessTokenBucket(2.0, 4, clock=clock), clock)


def test_redis_lua_refill_math(redis_url):
    clock = FakeClock()
    _check_refill_math(RedisTokenBucket(redis_client(redis_url), 2.0, 4, clock=clock), clock)


def test_in_process_memory_is_bounded():
    limiter = InProcessTokenBucket(1.0, 2, max_keys=100)
    for i in range(1000):
        limiter.hit(f"key-{i}")
    assert len(limiter) == 100


def test_in_process_is_thread_safe():
    limiter = InProcessTokenBucket(0.001, 50, clock=FakeClock())  # frozen clock: exactly 50 pass
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        results = [limiter.hit("shared").allowed for _ in range(25)]
        with lock:
            allowed.extend(results)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 50 and len(allowed) == 200


def test_redis_bucket_is_shared_between_pods_and_expires(redis_url):
    pod_a = RedisTokenBucket(redis_client(redis_url), 10.0, 3)  # server clock (TIME)
    pod_b = RedisTokenBucket(redis_client(redis_url), 10.0, 3)
    decisions = [pod_a.hit("alice").allowed, pod_b.hit("alice").allowed, pod_a.hit("alice").allowed]
    assert decisions == [True, True, True]
    refused = pod_b.hit("alice")
    assert not refused.allowed and 0 < refused.retry_after <= 0.1
    ttl_ms = redis.Redis.from_url(redis_url).pttl(KEY_PREFIX + "alice")
    assert 0 < ttl_ms <= pod_a.ttl_ms == 1300  # a full refill (0.3 s) plus one second


def test_fallback_when_redis_stops_and_recovery_after_restart(redis_server, redis_url, caplog):
    clock = FakeClock()
    shared = RedisTokenBucket(redis_client(redis_url), 1.0, 2, clock=clock)
    local = InProcessTokenBucket(1.0, 2, clock=clock)
    limiter = FallbackLimiter(shared, local, recheck_after_s=5.0, clock=clock)
    caplog.set_level(logging.WARNING, logger="florai.security.redis_rate_limit")

    assert limiter.hit("alice").allowed and not limiter.degraded
    assert len(local) == 0  # Redis answered: the local bucket was not touched

    redis_server.stop()
    decisions = [limiter.hit("alice") for _ in range(3)]
    assert limiter.degraded
    assert [d.allowed for d in decisions] == [True, True, False]  # enforced per pod, not open
    assert decisions[-1].retry_after == pytest.approx(1.0)
    assert sum("unreachable" in r.message for r in caplog.records) == 1  # once, not per request

    redis_server.start()  # empty: the restarted server also lost the Lua script cache
    assert not limiter.hit("alice").allowed  # still inside the back-off: local bucket
    clock.now += 5.0
    recovered = limiter.hit("alice")
    assert recovered.allowed and not limiter.degraded
    assert sum("reachable again" in r.message for r in caplog.records) == 1
    assert redis.Redis.from_url(redis_url).exists(KEY_PREFIX + "alice")
