"""Redis clients for the shared services (rate limits, prediction cache) with short timeouts.

A slow or dead Redis must cost a request milliseconds, not seconds: callers fall back to
in-process state on any ``redis.RedisError``.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

SOCKET_TIMEOUT_S = 0.25
CONNECT_TIMEOUT_S = 0.25
# One immediate retry re-dials a pooled connection that died with a Redis restart; redis-py's
# default (10 retries with exponential backoff) would stall every request while Redis is down.
RETRIES = 1


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=30,
        retry=Retry(NoBackoff(), RETRIES),
    )
