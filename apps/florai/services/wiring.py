"""Builds the runtime's services from the settings: cache, rate limits, authentication, prediction,
consent, retention and erasure.

Each backend is the storage/security engineers' module; this file picks the one the settings ask
for (Redis when REDIS_URL is set, in-process otherwise). Blocking (database rows, Redis clients,
the pepper file): the lifespan runs it in a thread.
"""

from __future__ import annotations

import logging

from florai.cache import InProcessLRUCache, RedisPredictionCache
from florai.catalogue import Catalogue
from florai.consent import ConsentService, open_image_store
from florai.security import (
    ApiKeyStore,
    FallbackLimiter,
    InProcessTokenBucket,
    JwtVerifier,
    Principal,
    RedisTokenBucket,
    generate_api_key,
    pepper_from_file,
)
from florai.services.authentication import Authenticator, RateLimits
from florai.services.consent import ConsentAccess
from florai.services.erasure import ImageErasure
from florai.services.prediction import PredictionService
from florai.services.retention import RetentionWriter
from florai.services.runtime import Runtime
from florai.settings import Settings
from florai.storage import Database
from florai.storage.redis_connection import redis_client

log = logging.getLogger(__name__)
DEV_KEY_NOTICE = "FLORAI_API_KEY={key} (development key)"


def build_runtime(settings: Settings, catalogue: Catalogue, database: Database) -> Runtime:
    """Every service the routes use, wired to the backends the settings name (models load later)."""
    local_cache = InProcessLRUCache(max_entries=settings.cache_size, ttl_s=settings.cache_ttl_s)
    local_buckets = InProcessTokenBucket(settings.rate_limit_per_s, settings.rate_limit_burst)
    if settings.redis_url:
        client = redis_client(settings.redis_url)
        cache = RedisPredictionCache(client, ttl_s=settings.cache_ttl_s, fallback=local_cache)
        shared = RedisTokenBucket(client, settings.rate_limit_per_s, settings.rate_limit_burst)
        limits = RateLimits(FallbackLimiter(shared, local_buckets), settings.rate_limit_burst)
    else:
        cache = local_cache
        limits = RateLimits(local_buckets, settings.rate_limit_burst)

    pepper = settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None
    keys = ApiKeyStore(database, pepper or pepper_from_file(settings.pepper_file))
    jwt = None
    if settings.jwt_key is not None or settings.jwt_jwks_url:
        jwt = JwtVerifier(
            settings.jwt_key.get_secret_value() if settings.jwt_key else None,
            algorithm=settings.jwt_algorithm,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            max_lifetime_s=settings.jwt_max_lifetime_s,
            jwks_url=settings.jwt_jwks_url,
        )
    failures = InProcessTokenBucket(settings.auth_failure_rate_per_s, settings.auth_failure_burst)
    runtime = Runtime(
        settings=settings,
        catalogue=catalogue,
        database=database,
        authenticator=Authenticator(keys, jwt, failures),
        limits=limits,
        predictions=PredictionService(
            settings.tasks, {}, {}, cache, limits, settings.queue_full_retry_after_s
        ),
    )
    runtime.predictions.engines = runtime.engines
    runtime.dev_key_notice = ensure_dev_key(settings, keys)

    if settings.consent_enabled or settings.tasks:
        consent = ConsentService(database)
        store = open_image_store(
            settings.effective_image_store_uri, kms_key_id=settings.image_store_kms_key_id
        )
        runtime.retention = RetentionWriter(consent, store)
        runtime.erasure = ImageErasure(
            consent, store, settings.image_retention_days, settings.image_sweep_interval_s
        )
        runtime.consent = ConsentAccess(consent, runtime.erasure)
    return runtime


def ensure_dev_key(settings: Settings, keys: ApiKeyStore) -> str | None:
    """Embedded mode only: accept FLORAI_API_KEY, or generate one; returns the notice to print for a
    generated key (None otherwise)."""
    if settings.database_url is not None:
        return None  # a deployment: keys are issued (python -m florai.keys), never read from the environment
    plaintext = settings.api_key.get_secret_value() if settings.api_key else generate_api_key()
    principal: Principal = keys.ensure_dev_key(plaintext)
    log.info("development key ready", extra={"user_id": principal.user_id})
    return DEV_KEY_NOTICE.format(key=plaintext) if settings.api_key is None else None
