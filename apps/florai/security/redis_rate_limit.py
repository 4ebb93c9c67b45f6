"""Token buckets shared by every pod through Redis, and the fallback to in-process buckets.

The bucket update is one Lua script (atomic on the server) using the Redis server's clock, so
pods with skewed clocks agree; keys expire once a bucket would be full again.

FallbackLimiter: while Redis is unreachable, limits are enforced per pod by the in-process
bucket (a client spread over N pods may get up to N times its rate). The transition is logged
once each way, and Redis is tried again after ``recheck_after_s``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

import redis

from florai.security.rate_limit import RateLimitDecision, TokenBucketLimiter, check_bucket

log = logging.getLogger(__name__)

KEY_PREFIX = "florai:ratelimit:"
DEFAULT_RECHECK_AFTER_S = 2.0

# KEYS[1] bucket; ARGV rate, burst, cost, now (seconds; < 0 = use the server's TIME), ttl_ms.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry_after = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry_after = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {allowed, tostring(retry_after), tostring(tokens)}
"""


class RedisTokenBucket:
    """Token buckets in Redis; ``clock`` (seconds) is for tests, else the server's time is used."""

    def __init__(
        self,
        client: redis.Redis,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] | None = None,
        prefix: str = KEY_PREFIX,
    ) -> None:
        check_bucket(rate_per_s, burst)
        self.client = client
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.prefix = prefix
        # A full refill from empty, plus a second: after that an absent key means "full bucket".
        self.ttl_ms = math.ceil(burst / rate_per_s * 1000) + 1000
        self._script = client.register_script(TOKEN_BUCKET_LUA)  # EVALSHA, re-loaded after a restart

    def hit(self, key: str, cost: int = 1) -> RateLimitDecision:
        """Raises redis.RedisError when Redis is unreachable (FallbackLimiter handles it)."""
        if not 1 <= cost <= self.burst:
            raise ValueError(f"cost must be between 1 and the burst ({self.burst}), got {cost}")
        now = self.clock() if self.clock else -1
        allowed, retry_after, tokens = self._script(
            keys=[self.prefix + key], args=[self.rate_per_s, self.burst, cost, now, self.ttl_ms]
        )
        return RateLimitDecision(bool(allowed), float(retry_after), int(float(tokens)))


class FallbackLimiter:
    """Redis buckets while Redis answers; the in-process buckets while it does not."""

    blocking = True  # waits on Redis: callers run it off the event loop

    def __init__(
        self,
        shared: TokenBucketLimiter,
        local: TokenBucketLimiter,
        recheck_after_s: float = DEFAULT_RECHECK_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.local = local
        self.recheck_after_s = recheck_after_s
        self.clock = clock
        self._down_until: float | None = None  # set while Redis is considered down
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_until is not None

    def hit(self, key: str, cost: int = 1) -> RateLimitDecision:
        with self._lock:
            skip_shared = self._down_until is not None and self.clock() < self._down_until
        if not skip_shared:
            try:
                decision = self.shared.hit(key, cost)
            except redis.RedisError as error:
                with self._lock:
                    if self._down_until is None:
                        log.warning("rate limiter: Redis unreachable, limiting per pod (%s)", error)
                    self._down_until = self.clock() + self.recheck_after_s
            else:
                with self._lock:
                    if self._down_until is not None:
                        log.warning("rate limiter: Redis reachable again, limits shared across pods")
                    self._down_until = None
                return decision
        return self.local.hit(key, cost)
