"""Who is calling, and what they may spend: API keys or Bearer JWTs, failed attempts limited per
client address, and per-caller token buckets charged by the work a request asks for.

Verified keys are remembered briefly (by hash): a revoked key stops working within KEY_FRESH_S, and
while the database is down known keys keep working for KEY_STALE_S, so inference does not depend on
the consent database. A client address whose attempts keep failing is refused (429) before its next
attempt costs a database lookup or a signature check.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from florai import contract
from florai.security import (
    ApiKeyStore,
    AuthError,
    InProcessTokenBucket,
    JwtVerifier,
    Principal,
    RateLimitDecision,
)
from florai.services.errors import RateLimitedError, StorageUnavailableError, UnauthenticatedError
from florai.services.offload import off_loop_if_blocking
from florai.services.ports import TokenBuckets
from florai.storage import DatabaseUnavailable

log = logging.getLogger(__name__)

# Seconds a verified API key is trusted without asking the database, and while it is down.
KEY_FRESH_S = 60.0
KEY_STALE_S = 3600.0
KEY_CACHE_ENTRIES = 10_000
# Seconds a client should wait before retrying while the database cannot verify a key.
DATABASE_RETRY_AFTER_S = 5
MISSING_CREDENTIALS = f"missing credentials: send {contract.API_KEY_HEADER} or Authorization: Bearer <JWT>"
INVALID_CREDENTIALS = "invalid API key or token"


def retry_after(decision: RateLimitDecision) -> int:
    return max(1, math.ceil(decision.retry_after))


class Authenticator:
    """X-API-Key (hashed keys in the database) or a Bearer JWT (when a JWT key or JWKS URL is set)."""

    def __init__(
        self,
        keys: ApiKeyStore,
        jwt: JwtVerifier | None,
        failures: InProcessTokenBucket,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.jwt = jwt
        # Per client address: one token per failed attempt; empty = refused before any lookup.
        self.failures = failures
        self.clock = clock
        self._known: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    async def authenticate(self, api_key: str | None, token: str | None, address: str) -> Principal:
        """The caller's Principal; UnauthenticatedError, RateLimitedError (too many failures from ``address``)
        or StorageUnavailableError (the key cannot be checked right now) otherwise."""
        if not api_key and not token:
            raise UnauthenticatedError(MISSING_CREDENTIALS)
        principal = self.known_key(api_key)
        if principal is not None:
            return principal
        blocked = self.failures.peek(address)
        if not blocked.allowed:
            raise RateLimitedError(
                "too many failed authentication attempts from this address; retry later",
                retry_after(blocked),
            )
        try:
            return await asyncio.to_thread(self._verify, api_key, token)
        except AuthError as exc:
            log.info("authentication refused", extra={"reason": str(exc), "client": address})
            self.failures.hit(address)
            raise UnauthenticatedError(INVALID_CREDENTIALS) from None

    def _verify(self, api_key: str | None, token: str | None) -> Principal:
        if api_key:
            return self._verify_key(api_key)
        if self.jwt is None:
            raise AuthError("bearer tokens are not accepted here")
        return self.jwt.verify(token)

    def known_key(self, api_key: str | None) -> Principal | None:
        """The principal of an API key verified less than KEY_FRESH_S ago, else None.

        A hash and a dictionary lookup: cheap enough for the event loop, so the common case needs
        no thread hop."""
        if not api_key:
            return None
        known = self._lookup(hashlib.sha256(api_key.encode()).hexdigest())
        return known[1] if known is not None and self.clock() - known[0] < KEY_FRESH_S else None

    def _lookup(self, digest: str) -> tuple[float, Principal] | None:
        with self._lock:
            return self._known.get(digest)

    def _verify_key(self, api_key: str) -> Principal:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        now = self.clock()
        known = self._lookup(digest)
        if known is not None and now - known[0] < KEY_FRESH_S:
            return known[1]
        try:
            principal = self.keys.verify(api_key)
        except DatabaseUnavailable:
            if known is not None and now - known[0] < KEY_STALE_S:
                return known[1]
            raise StorageUnavailableError(
                "cannot verify the API key right now", DATABASE_RETRY_AFTER_S
            ) from None
        with self._lock:
            self._known[digest] = (now, principal)
            self._known.move_to_end(digest)
            while len(self._known) > KEY_CACHE_ENTRIES:
                self._known.popitem(last=False)
        return principal


class RateLimits:
    """Per-caller token buckets (per key; per user for tokens), called off the event loop when they
    wait on the network (Redis)."""

    def __init__(self, buckets: TokenBuckets, burst: int) -> None:
        self.buckets = buckets
        self.burst = burst

    async def charge(self, principal: Principal, cost: int = 1) -> None:
        """Take ``cost`` tokens (at most the burst: a request the bucket can never hold is charged a
        full bucket) from the caller's bucket; RateLimitedError when it cannot pay."""
        cost = max(1, min(cost, self.burst))
        decision = await off_loop_if_blocking(self.buckets, self.buckets.hit, principal.rate_limit_key, cost)
        if not decision.allowed:
            wait = retry_after(decision)
            raise RateLimitedError(f"rate limit exceeded; retry in {wait} s", wait)
