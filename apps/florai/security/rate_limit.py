"""Per-key token buckets: the decision type, the limiter protocol and the in-process bucket.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; a request costs tokens or
is refused with the seconds until enough have refilled (the HTTP Retry-After).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Keys tracked at most by one process; the least recently used bucket is dropped beyond it.
DEFAULT_MAX_KEYS = 100_000


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    retry_after: float = 0.0
    remaining: int = 0

    @property
    def retry_after_seconds(self) -> float:
        return self.retry_after

    @property
    def retry_after_header(self) -> str:
        """Whole seconds for the Retry-After header (at least 1 when refused)."""
        return str(max(1, math.ceil(self.retry_after))) if not self.allowed else "0"


class TokenBucketLimiter(Protocol):
    def hit(self, key: str, cost: int = 1) -> RateLimitDecision: ...


def check_bucket(rate_per_s: float, burst: int) -> None:
    if rate_per_s <= 0 or burst < 1:
        raise ValueError(f"token bucket needs rate_per_s > 0 and burst >= 1, got {rate_per_s}, {burst}")


class InProcessTokenBucket:
    """Thread-safe token buckets in this process, bounded to ``max_keys`` buckets (LRU).

    Dropping an idle bucket is harmless (it would have refilled); dropping a busy one under
    key churn gives that key a fresh burst, the price of bounded memory.
    """

    blocking = False  # a lock and arithmetic: callers need no thread

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        check_bucket(rate_per_s, burst)
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - at) * self.rate_per_s)

    def _decision(self, tokens: float, cost: int) -> RateLimitDecision:
        if tokens >= cost:
            return RateLimitDecision(True, 0.0, int(tokens - cost))
        return RateLimitDecision(False, (cost - tokens) / self.rate_per_s, int(tokens))

    def peek(self, key: str, cost: int = 1) -> RateLimitDecision:
        """Whether ``hit(key, cost)`` would be allowed now, without taking anything."""
        with self._lock:
            return self._decision(self._tokens(key, self.clock()), cost)

    def hit(self, key: str, cost: int = 1) -> RateLimitDecision:
        if not 1 <= cost <= self.burst:
            raise ValueError(f"cost must be between 1 and the burst ({self.burst}), got {cost}")
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            self._buckets.pop(key, None)
            decision = self._decision(tokens, cost)
            self._buckets[key] = (tokens - cost if decision.allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return decision
