"""Refuses request bodies over contract.MAX_REQUEST_BYTES before anything parses them.

The declared Content-Length is checked first; chunked or lying clients are stopped by
counting the bytes as they stream in.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from florai.api.errors import error_body
from florai.metrics import REJECTED_REQUESTS
from florai.services.errors import TooLargeError


def body_too_large_message(limit: int) -> str:
    return f"request body exceeds the limit of {limit} bytes"


class BodyTooLargeError(TooLargeError):
    """Raised from ``receive`` once the streamed body passes the limit."""

    def __init__(self, limit: int):
        super().__init__(body_too_large_message(limit))


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            # Normally the app's handler answers; this covers a read outside a route.
            if not started:
                await JSONResponse(error_body("too_large", body_too_large_message(self.max_bytes)), 413)(
                    scope, receive, send
                )

    async def _refuse(self, send: Send) -> None:
        REJECTED_REQUESTS.labels(reason="too_large").inc()
        body = JSONResponse(error_body("too_large", body_too_large_message(self.max_bytes)), 413)
        await send({"type": "http.response.start", "status": 413, "headers": body.raw_headers})
        await send({"type": "http.response.body", "body": body.body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
