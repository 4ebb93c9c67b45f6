"""Builds the runtime's shared services from the settings: cache, rate limiter, authentication, consent.

Each is the storage/security engineers' module; this file picks the backend the settings ask
for (Redis when REDIS_URL is set, in-process otherwise) and adapts call shapes for the routes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from florai.api.errors import ApiError
from florai.api.retention import RetentionWriter
from florai.api.runtime import Runtime, off_loop_if_blocking
from florai.cache import InProcessLRUCache, RedisPredictionCache
from florai.consent import ConsentService, open_image_store
from florai.inference.runtime import available_cpus
from florai.security import (
    ApiKeyStore,
    AuthError,
    FallbackLimiter,
    InProcessTokenBucket,
    JwtVerifier,
    Principal,
    RateLimitDecision,
    RedisTokenBucket,
    generate_api_key,
    pepper_from_file,
)
from florai.settings import Settings
from florai.storage import DatabaseUnavailable
from florai.storage.redis_connection import redis_client

log = logging.getLogger(__name__)
DEV_KEY_NOTICE = "FLORAI_API_KEY={key} (development key)"
# Seconds a verified API key is trusted without asking the database, and while it is down.
KEY_FRESH_S = 60.0
KEY_STALE_S = 3600.0
KEY_CACHE_ENTRIES = 10_000


def decode_threads(settings: Settings) -> int:
    """Decode/preprocess threads: FLORAI_DECODE_THREADS, else the container's CPU limit."""
    return settings.decode_threads or available_cpus()


class Authenticator:
    """X-API-Key (hashed keys in the database) or a Bearer JWT (when a JWT key is configured).

    Verified keys are remembered briefly (by hash): a revoked key stops working within
    KEY_FRESH_S, and while the database is down known keys keep working for KEY_STALE_S,
    so inference does not depend on the consent database.
    """

    def __init__(self, keys: ApiKeyStore, jwt: JwtVerifier | None, clock=time.monotonic) -> None:
        self.keys = keys
        self.jwt = jwt
        self.clock = clock
        self._known: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, api_key: str | None, token: str | None) -> Principal | None:
        try:
            if api_key:
                return self._verify_key(api_key)
            if token and self.jwt is not None:
                return self.jwt.verify(token)
        except AuthError as exc:
            log.info("authentication refused", extra={"reason": str(exc)})
        return None

    def known_key(self, api_key: str | None) -> Principal | None:
        """The principal of an API key verified less than KEY_FRESH_S ago, else None (ask ``authenticate``).

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
            raise ApiError(
                503, "database_unavailable", "cannot verify the API key right now", {"Retry-After": "5"}
            ) from None
        with self._lock:
            self._known[digest] = (now, principal)
            self._known.move_to_end(digest)
            while len(self._known) > KEY_CACHE_ENTRIES:
                self._known.popitem(last=False)
        return principal


@dataclass
class AsyncRateLimiter:
    """The security module's (blocking, possibly Redis-backed) limiter, called off the event loop."""

    limiter: InProcessTokenBucket | FallbackLimiter

    async def acquire(self, subject: str) -> RateLimitDecision:
        return await off_loop_if_blocking(self.limiter, self.limiter.hit, subject)


def build_runtime_services(runtime: Runtime) -> None:
    """Blocking set-up (database rows, Redis clients, pepper file); run in a thread from the lifespan."""
    settings = runtime.settings
    local_cache = InProcessLRUCache(max_entries=settings.cache_size, ttl_s=settings.cache_ttl_s)
    local_limiter = InProcessTokenBucket(settings.rate_limit_per_s, settings.rate_limit_burst)
    if settings.redis_url:
        client = redis_client(settings.redis_url)
        runtime.cache = RedisPredictionCache(client, ttl_s=settings.cache_ttl_s, fallback=local_cache)
        shared = RedisTokenBucket(client, settings.rate_limit_per_s, settings.rate_limit_burst)
        runtime.rate_limiter = AsyncRateLimiter(FallbackLimiter(shared, local_limiter))
    else:
        runtime.cache = local_cache
        runtime.rate_limiter = AsyncRateLimiter(local_limiter)

    pepper = settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None
    keys = ApiKeyStore(runtime.database, pepper or pepper_from_file(settings.pepper_file))
    jwt = None
    if settings.jwt_key is not None:
        jwt = JwtVerifier(
            settings.jwt_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    runtime.authenticator = Authenticator(keys, jwt)
    ensure_dev_key(settings, keys)

    if settings.consent_enabled or settings.tasks:
        runtime.consent = ConsentService(runtime.database)
        runtime.image_store = open_image_store(
            settings.effective_image_store_uri, kms_key_id=settings.image_store_kms_key_id
        )
        runtime.retention = RetentionWriter(runtime.consent, runtime.image_store)


def ensure_dev_key(settings: Settings, keys: ApiKeyStore) -> Principal | None:
    """Embedded mode only: accept FLORAI_API_KEY, or generate one and print it."""
    if settings.database_url is not None:
        return None  # a real deployment: keys are issued, never taken from the environment
    plaintext = settings.api_key.get_secret_value() if settings.api_key else generate_api_key()
    principal = keys.ensure_dev_key(plaintext)
    if settings.api_key is None:
        print(DEV_KEY_NOTICE.format(key=plaintext), flush=True)
    return principal
