"""Everything the routes share for the life of the process, built and torn down by the app's lifespan.

Models load only for the tasks of the enabled services; a model that fails to load leaves
its task unready (``/readyz`` names it) instead of stopping the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from florai.catalogue import Catalogue
from florai.metrics import MODEL_INFO, MODEL_LOADED
from florai.settings import Settings
from florai.storage import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue
    decode_pool: ThreadPoolExecutor
    database: Database
    models: dict[str, Any] = field(default_factory=dict)
    batchers: dict[str, Any] = field(default_factory=dict)
    # Task -> WorkerPool, when decode + forward run in worker processes.
    workers: dict[str, Any] = field(default_factory=dict)
    model_errors: dict[str, str] = field(default_factory=dict)
    label_names: dict[str, dict[str, str]] = field(default_factory=dict)
    cache: Any = None
    rate_limiter: Any = None
    authenticator: Any = None
    consent: Any = None
    image_store: Any = None
    retention: Any = None  # florai.api.retention.RetentionWriter, with consent and the image store

    # --- models -------------------------------------------------------------------------
    async def load_models(self, device: str | None) -> None:
        """Load every task's model; in process mode start its worker pool. Every pool is launched
        before any is waited on, so the children's imports and model loads overlap each other and
        the next model's load here (start-up is CPU-bound: a child takes seconds to load torch)."""
        from florai.inference.worker import WorkerError, WorkerPool
        from florai.models.errors import ModelLoadError
        from florai.models.loader import load_model

        starting: list[tuple[str, Any, WorkerPool, Any]] = []
        try:
            for task in self.settings.tasks:
                uri = self.settings.model_uri(task)
                try:
                    model = await asyncio.to_thread(load_model, uri, device)
                except ModelLoadError as exc:
                    # load_model counts MODEL_LOAD_FAILURES; /readyz reports the message.
                    self.model_errors[task] = str(exc)
                    log.error("model load failed", extra={"task": task, "uri": uri, "error": str(exc)})
                    continue
                if self.settings.inference_worker != "process":
                    await self._serve_model(task, model, model)
                    continue
                settings = self.settings
                pool = WorkerPool.sized_for(model, len(settings.tasks), settings.inference_processes)
                try:
                    starting.append((task, model, pool, pool.launch()))
                except OSError as exc:  # could not start a process (limits, memory)
                    self._pool_failed(task, model, exc)
            while starting:
                task, model, pool, launched = starting.pop(0)
                try:
                    await asyncio.to_thread(pool.wait_ready, launched)
                except WorkerError as exc:
                    self._pool_failed(task, model, exc)
                    continue
                self.workers[task] = pool
                await self._serve_model(task, model, pool)
        finally:  # cancelled or failed part-way: no child outlives the start
            for _, _, pool, launched in starting:
                pool.abort(launched)

    def _pool_failed(self, task: str, model: Any, exc: Exception) -> None:
        MODEL_LOADED.labels(model=model.manifest.name).set(0)
        self.model_errors[task] = str(exc)
        log.error("inference worker failed", extra={"task": task, "error": str(exc)})

    async def _serve_model(self, task: str, model: Any, predictor: Any) -> None:
        """Put a loaded model (in this process, or behind its worker pool) behind its batcher."""
        from florai.inference.batcher import Batcher

        settings = self.settings
        batcher = Batcher(predictor, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue)
        await batcher.start()
        manifest = model.manifest
        self.models[task] = model
        self.batchers[task] = batcher
        self.label_names[task] = label_names(self.catalogue, task)
        MODEL_LOADED.labels(model=manifest.name).set(1)
        MODEL_INFO.labels(
            model=manifest.name, version=manifest.version, task=task, device=str(model.device)
        ).set(1)
        log.info("model loaded", extra={"task": task, "model": manifest.name, "version": manifest.version})

    async def drain(self, timeout: float) -> None:
        """Finish queued inference (bounded by ``timeout``), then stop the workers and the decode pool."""
        await asyncio.gather(*(b.drain(timeout) for b in self.batchers.values()), return_exceptions=True)
        await asyncio.gather(*(asyncio.to_thread(w.close) for w in self.workers.values()))
        for model in self.models.values():
            MODEL_LOADED.labels(model=model.manifest.name).set(0)
        self.decode_pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.database.dispose()

    # --- readiness ----------------------------------------------------------------------
    def readiness_checks(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        for task in self.settings.tasks:
            checks[f"model:{task}"] = (
                "ok" if task in self.models else self.model_errors.get(task, "not loaded")
            )
        checks["database"] = "ok" if self.database.ping() else "unreachable"
        return checks

    # --- prediction cache ---------------------------------------------------------------
    async def cache_get(self, key: str) -> Any | None:
        return await off_loop_if_blocking(self.cache, self.cache.get, key) if self.cache is not None else None

    async def cache_set(self, key: str, value: Any) -> None:
        if self.cache is not None:
            await off_loop_if_blocking(self.cache, self.cache.set, key, value)


async def off_loop_if_blocking(backend: Any, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a thread when ``backend.blocking`` (it waits on the network, e.g. Redis), else
    on the loop: an in-process backend is a dictionary under a lock, cheaper than the thread hop."""
    if getattr(backend, "blocking", True):
        return await asyncio.to_thread(fn, *args)
    return fn(*args)


def label_names(catalogue: Catalogue, task: str) -> dict[str, str]:
    """Display name of every label id of a task, from the catalogue."""
    from florai import contract

    if task == contract.TASK_IDENTIFY:
        return {k: v.common_name for k, v in catalogue.species.items()}
    if task == contract.TASK_DIAGNOSE:
        return {k: v.name for k, v in catalogue.diseases.items()}
    return {g.id: g.name for g in catalogue.generic_stages}
