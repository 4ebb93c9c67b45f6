"""(d) The floor: the service's serving parts alone, as a server of their own.

uvicorn, the same multipart parser, the same dynamic batcher and the same worker pool (processes
and threads chosen as the service chooses them), and nothing else: no FastAPI, no authentication
or rate limit, no prediction cache, no consent writes, no metrics or logs. It answers POST (any
path) with the image's top classes and GET (any path) with 200.

Run beside the service in ``make bench``, it shows what any server built on these parts reaches
on this machine, with the load generator on the same CPUs: the service's distance to the floor
is what the app's own work per request costs; the floor's distance to the limit is the cost of
serving over HTTP here at all.

    python apps/bench/floor.py   (reads PORT, FLORAI_MODELS_DIR, FLORAI_MAX_BATCH_SIZE, ...)
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from florai import contract
from florai.api import multipart
from florai.inference.engine import Engine
from florai.inference.worker import WorkerPool
from florai.models.source import resolve_model
from florai.settings import Settings, load_settings

JSON_HEADERS = [(b"content-type", b"application/json")]


class FloorServer:
    """An ASGI app: the identify model's engine (batcher and worker pool), and nothing else."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine | None = None
        self.labels: tuple[str, ...] = ()

    async def start(self) -> None:
        settings = self.settings
        source = await asyncio.to_thread(resolve_model, settings.model_uri(contract.TASK_IDENTIFY))
        pool = WorkerPool.sized_for(source, 1, settings.inference_processes, settings.device)
        await asyncio.to_thread(pool.start)
        self.engine = Engine(pool, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue)
        await self.engine.start()
        self.labels = source.manifest.labels

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.drain(self.settings.drain_timeout_s)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            status, body = await self._answer(scope, receive)
            headers = [*JSON_HEADERS, (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, scope: dict, receive: Any) -> tuple[int, bytes]:
        if scope["method"] != "POST":
            return 200, b"{}"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        try:
            body = b"".join(chunks)
            parts = multipart.parse(body, content_type, max_files=1, max_fields=0, max_field_bytes=0)
            [image] = [part.data for part in parts if part.name == "file"]
            scores = await self.engine.predict(image)
        except Exception as exc:  # the floor measures the happy path; anything else is the client's
            return 422, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
        top = contract.DEFAULT_TOP_K
        predictions = [
            {"id": self.labels[i], "confidence": p}
            for i, p in zip(scores.indices[:top], scores.probabilities[:top], strict=True)
        ]
        return 200, json.dumps({"predictions": predictions}).encode()


def main() -> None:
    import uvicorn

    settings = load_settings()
    logging.basicConfig(level=settings.log_level)
    uvicorn.run(
        FloorServer(settings),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level=settings.log_level.lower(),
        server_header=False,
    )


if __name__ == "__main__":  # the worker pool's spawned children import this module too
    main()
