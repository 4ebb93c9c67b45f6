"""Security headers on every response, and CORS for the browser origins FLORAI_CORS_ORIGINS allows.

The API answers JSON to programs and browsers: nothing of it may be sniffed as another type, framed,
sent on as a referrer or kept by a shared cache; the docs pages get the same headers except the API's
content security policy: they carry their own (florai.api.docs: scripts from this origin only).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from florai import contract

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cross-origin-resource-policy", b"same-site"),
)
API_ONLY_HEADERS = (
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
)
# Headers a browser client may send, and those it may read, across origins.
CORS_REQUEST_HEADERS = (contract.API_KEY_HEADER, "Authorization", "Content-Type", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("Retry-After", "X-Request-ID")
CORS_METHODS = ("GET", "POST", "PUT", "DELETE")
CORS_MAX_AGE_S = 600


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = (
            SECURITY_HEADERS + API_ONLY_HEADERS
            if scope["path"].startswith(contract.API_PREFIX)
            else SECURITY_HEADERS
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def install_browser_policy(app: FastAPI, origins: tuple[str, ...]) -> None:
    """Security headers always; CORS only for ``origins`` (none: no cross-origin browser access)."""
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=CORS_MAX_AGE_S,
        )
    app.add_middleware(SecurityHeadersMiddleware)
