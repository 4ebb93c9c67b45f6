"""Route dependencies: the runtime, and the authenticated caller (with or without one rate-limit token).

Each is one dependency over the two security schemes (which document the credentials in OpenAPI),
not a chain of them: FastAPI resolves every dependency node per request, and on the inference path
that resolution cost more than the authentication itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from florai import contract
from florai.security import Principal
from florai.services.runtime import Runtime

api_key_header = APIKeyHeader(name=contract.API_KEY_HEADER, auto_error=False, description="API key")
bearer = HTTPBearer(auto_error=False, description="JWT issued by the identity provider")


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_runtime(request: Request) -> Runtime:  # async: no thread-pool hop per request
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str:
    """The client's address (uvicorn resolves X-Forwarded-For from FORWARDED_ALLOW_IPS proxies)."""
    return request.client.host if request.client else "unknown"


async def authenticated(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's Principal (the inference routes charge it by the work they are asked for)."""
    token = credentials.credentials if credentials else None
    return await runtime_of(request).authenticator.authenticate(api_key, token, client_address(request))


async def rate_limited(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's Principal, after taking one token from its bucket."""
    runtime = runtime_of(request)
    token = credentials.credentials if credentials else None
    principal = await runtime.authenticator.authenticate(api_key, token, client_address(request))
    await runtime.limits.charge(principal)
    return principal


CallerDep = Annotated[Principal, Depends(authenticated)]
LimitedCallerDep = Annotated[Principal, Depends(rate_limited)]
