"""Prediction cache: JSON-able predictions keyed by model name + version + image sha256, with a TTL.

Two backends behind one protocol (``get(key)`` / ``set(key, value)``):
- ``InProcessLRUCache``: bounded LRU with per-entry expiry (embedded mode, and the fallback);
- ``RedisPredictionCache``: shared by every pod; on any Redis error it serves from its
  in-process fallback instead, logs the transition once, and tries Redis again after a back-off.
Neither raises to the caller: a cache problem is a miss, never a failed request.

Values are stored as JSON text, so a caller can never mutate a cached entry by accident.
Metrics: the caller records CACHE_HITS / CACHE_MISSES (florai.services.prediction does, per model),
so they count what clients saw; the cache itself records nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "florai:prediction:"
DEFAULT_MAX_ENTRIES = 4096
DEFAULT_TTL_S = 3600.0
DEFAULT_RECHECK_AFTER_S = 2.0


def prediction_key(model_name: str, model_version: str, image_sha256: str, owner: str) -> str:
    """The cache key of one image sent by one user (``owner``, their user id) under one model version:
    a new version never sees old entries, and a hit never tells a user what another one sent."""
    owner_hash = hashlib.sha256(owner.encode()).hexdigest()[:32]
    return f"{model_name}:{model_version}:{owner_hash}:{image_sha256}"


class PredictionCache(Protocol):
    # True when get/set wait on the network (callers run them off the event loop).
    blocking: bool

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any) -> None: ...


class InProcessLRUCache:
    """At most ``max_entries`` entries; each expires ``ttl_s`` after it was set. Thread-safe."""

    blocking = False

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_s <= 0:
            raise ValueError("max_entries must be >= 1 and ttl_s > 0")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key -> (expires, json)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            text = entry[1]
        return json.loads(text)

    def set(self, key: str, value: Any) -> None:
        text = json.dumps(value, sort_keys=True)
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl_s, text)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class RedisPredictionCache:
    """Entries in Redis with ``SET ... EX ttl``; the in-process ``fallback`` while Redis is down."""

    blocking = True

    def __init__(
        self,
        client: redis.Redis,
        ttl_s: float = DEFAULT_TTL_S,
        fallback: InProcessLRUCache | None = None,
        recheck_after_s: float = DEFAULT_RECHECK_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self.client = client
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.fallback = fallback or InProcessLRUCache(ttl_s=ttl_s)
        self.recheck_after_s = recheck_after_s
        self.clock = clock
        self.prefix = prefix
        self._down_until: float | None = None
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_until is not None

    def _redis_usable(self) -> bool:
        with self._lock:
            return self._down_until is None or self.clock() >= self._down_until

    def _failed(self, error: Exception) -> None:
        with self._lock:
            if self._down_until is None:
                log.warning("prediction cache: Redis unreachable, using the in-process cache (%s)", error)
            self._down_until = self.clock() + self.recheck_after_s

    def _recovered(self) -> None:
        with self._lock:
            if self._down_until is not None:
                log.warning("prediction cache: Redis reachable again")
            self._down_until = None

    def get(self, key: str) -> Any | None:
        if self._redis_usable():
            try:
                raw = self.client.get(self.prefix + key)
            except redis.RedisError as error:
                self._failed(error)
            else:
                self._recovered()
                if raw is None:
                    return None
                try:
                    return json.loads(raw)
                except ValueError:
                    log.warning("prediction cache: undecodable entry ignored", extra={"key": key})
                    return None
        return self.fallback.get(key)

    def set(self, key: str, value: Any) -> None:
        text = json.dumps(value, sort_keys=True)
        if self._redis_usable():
            try:
                self.client.set(self.prefix + key, text, px=self.ttl_ms)
            except redis.RedisError as error:
                self._failed(error)
            else:
                self._recovered()
                return
        self.fallback.set(key, value)
