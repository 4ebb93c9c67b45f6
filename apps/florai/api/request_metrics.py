"""Request metrics and request ids: HTTP_REQUESTS / HTTP_REQUEST_DURATION by route template, HTTP_IN_FLIGHT.

Labels use the matched route's template (``/api/v1/species/{species_id}``), never the
raw path, so a client cannot create series at will; unmatched paths share one label.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable

from fastapi import APIRouter
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from florai.metrics import HTTP_IN_FLIGHT, HTTP_REQUEST_DURATION, HTTP_REQUESTS
from florai.observability import REQUEST_ID

UNMATCHED_ROUTE = "unmatched"
REQUEST_ID_HEADER = "x-request-id"
MAX_REMEMBERED_PATHS = 1024


class RouteTemplates:
    """Path templates of the app's routes, matched like the router matches them (first hit wins)."""

    def __init__(self) -> None:
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        # Paths seen before -> template: most requests go to a few fixed paths. Bounded: ids in
        # paths (and clients probing at random) must not grow it without limit.
        self._seen: dict[str, str] = {}

    def add(self, templates: Iterable[str]) -> None:
        self._seen.clear()
        for template in templates:
            regex, _, _ = compile_path(template)
            self._patterns.append((regex, template))

    def add_router(self, router: APIRouter, prefix: str = "") -> None:
        self.add(prefix + route.path for route in router.routes if hasattr(route, "path"))

    def match(self, path: str) -> str:
        template = self._seen.get(path)
        if template is None:
            template = next((t for regex, t in self._patterns if regex.match(path)), UNMATCHED_ROUTE)
            if len(self._seen) >= MAX_REMEMBERED_PATHS:
                self._seen.clear()
            self._seen[path] = template
        return template


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, templates: RouteTemplates):
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.templates.match(scope["path"])
        method = scope["method"]
        request_id = _header(scope, REQUEST_ID_HEADER) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()
        in_flight = HTTP_IN_FLIGHT.labels(route=route)
        in_flight.inc()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            in_flight.dec()
            labels = {"route": route, "method": method, "status": str(status)}
            HTTP_REQUESTS.labels(**labels).inc()
            HTTP_REQUEST_DURATION.labels(**labels).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            text = value.decode("latin-1")[:128]
            return text if text.isprintable() else None
    return None
