"""Route dependencies: the runtime, the authenticated principal, the per-key rate limit."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from florai import contract
from florai.api.errors import ApiError
from florai.api.runtime import Runtime

api_key_header = APIKeyHeader(name=contract.API_KEY_HEADER, auto_error=False, description="API key")
bearer = HTTPBearer(auto_error=False, description="JWT issued by the identity provider")
MISSING_CREDENTIALS = f"missing credentials: send {contract.API_KEY_HEADER} or Authorization: Bearer <JWT>"
INVALID_CREDENTIALS = "invalid API key or token"


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_runtime(request: Request) -> Runtime:  # async: no thread-pool hop per request
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def unauthorized(message: str) -> ApiError:
    challenge = f'Bearer, ApiKey header="{contract.API_KEY_HEADER}"'
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


async def authenticate(runtime: Runtime, api_key: str | None, token: str | None) -> Any:
    """The caller's Principal, from X-API-Key or a Bearer JWT; 401 otherwise."""
    if not api_key and not token:
        raise unauthorized(MISSING_CREDENTIALS)
    principal = runtime.authenticator.known_key(api_key) or await run_in_threadpool(
        runtime.authenticator.authenticate, api_key, token
    )
    if principal is None:
        raise unauthorized(INVALID_CREDENTIALS)
    return principal


async def take_token(runtime: Runtime, principal: Any) -> None:
    """One token from the principal's bucket (per key; per user for JWTs); 429 when it is empty."""
    subject = principal.key_id or f"user:{principal.user_id}"
    decision = await runtime.rate_limiter.acquire(subject)
    if not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after))
        message = f"rate limit exceeded; retry in {retry_after} s"
        raise ApiError(429, "rate_limited", message, headers={"Retry-After": str(retry_after)})


async def rate_limited(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Any:
    """The authenticated principal, after taking one token from its bucket.

    One dependency over the two security schemes (which document the credentials in OpenAPI),
    not a chain of them: FastAPI resolves every dependency node per request, and on the
    inference path that resolution cost more than the authentication itself."""
    runtime = runtime_of(request)
    principal = await authenticate(runtime, api_key, credentials.credentials if credentials else None)
    await take_token(runtime, principal)
    return principal


CallerDep = Annotated[Any, Depends(rate_limited)]
