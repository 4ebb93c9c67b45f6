"""The service under uvicorn: its configuration, and a server that drains the way Kubernetes needs.

SIGTERM (Kubernetes stopping the pod): the server keeps accepting and serving for
FLORAI_DRAIN_DELAY_S while ``/readyz`` answers 503, so the load balancer and the Service's endpoints
stop sending new connections before the listener closes (nothing is refused meanwhile); then
uvicorn stops accepting, lets in-flight requests finish and the app's lifespan drains the batchers.
SIGINT (Ctrl-C) stops at once. Once the port accepts connections, the server says so on stdout (the
URLs, and a generated development key): never before.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from florai import contract
from florai.http_protocol import BoundedHeadersProtocol
from florai.observability import uvicorn_log_config
from florai.settings import Settings

log = logging.getLogger(__name__)


def uvicorn_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        lifespan="on",
        http=BoundedHeadersProtocol,
        log_config=uvicorn_log_config(settings.log_level),
        timeout_graceful_shutdown=int(settings.drain_timeout_s) + 1,
        proxy_headers=True,
        server_header=False,
    )


def ready_notice(settings: Settings, sock: socket.socket, dev_key_notice: str | None) -> str:
    host, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    services = ", ".join(settings.services)
    lines = [f"florai: serving {base}{contract.API_PREFIX} (API docs: {base}/docs; services: {services})"]
    if dev_key_notice:
        lines.append(dev_key_notice)
    return "\n".join(lines)


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, settings: Settings, sock: socket.socket) -> None:
        super().__init__(config)
        self.app, self.settings, self.sock = app, settings, sock
        self._exit_at: float | None = None
        self._drain_logged = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # listening: a client connecting now is served
            runtime = self.app.state.runtime
            print(ready_notice(self.settings, self.sock, runtime.dev_key_notice), flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        delay = self.settings.drain_delay_s
        if sig == signal.SIGTERM and delay > 0 and self.started and self._exit_at is None:
            # Keep serving, not ready, while the endpoints update; on_tick ends it.
            self._exit_at = time.monotonic() + delay
            self.app.state.runtime.draining = True
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None:
            if not self._drain_logged:
                self._drain_logged = True
                log.info("SIGTERM: not ready, still serving", extra={"delay_s": self.settings.drain_delay_s})
            if time.monotonic() >= self._exit_at:
                return True
        return await super().on_tick(counter)
