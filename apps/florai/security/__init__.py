"""Security: hashed API keys, JWT verification, the caller's Principal, and per-key rate limits."""

from florai.security.api_keys import ApiKeyStore, CreatedKey, generate_api_key, hash_api_key, pepper_from_file
from florai.security.jwt_tokens import JwtVerifier
from florai.security.principal import AuthError, Principal
from florai.security.rate_limit import InProcessTokenBucket, RateLimitDecision, TokenBucketLimiter
from florai.security.redis_rate_limit import FallbackLimiter, RedisTokenBucket

__all__ = [
    "ApiKeyStore",
    "AuthError",
    "CreatedKey",
    "FallbackLimiter",
    "InProcessTokenBucket",
    "JwtVerifier",
    "Principal",
    "RateLimitDecision",
    "RedisTokenBucket",
    "TokenBucketLimiter",
    "generate_api_key",
    "hash_api_key",
    "pepper_from_file",
]
