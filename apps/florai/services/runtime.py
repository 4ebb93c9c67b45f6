"""Everything the routes share for the life of the process, built and torn down by the app's lifespan:
the services (authentication, rate limits, prediction, consent, retention, erasure) and the model
lifecycle (one engine per task of the enabled services).

A model that fails to load leaves its task unready (``/readyz`` names the task; the reason goes to
the log) instead of stopping the process. In process mode this process reads each model's manifest
and starts its worker pool; it loads no weights (the workers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from florai.catalogue import Catalogue
from florai.inference.engine import Engine, ThreadRunner
from florai.inference.worker import WorkerError, WorkerPool
from florai.metrics import MODEL_INFO, MODEL_LOAD_FAILURES, MODEL_LOADED
from florai.models.errors import ModelLoadError
from florai.models.manifest import ModelManifest
from florai.models.source import record_load_failure, resolve_model
from florai.services.authentication import Authenticator, RateLimits
from florai.services.consent import ConsentAccess
from florai.services.erasure import ImageErasure
from florai.services.ports import InferenceEngine
from florai.services.prediction import PredictionService, label_names
from florai.services.retention import RetentionWriter
from florai.settings import Settings
from florai.storage import Database

log = logging.getLogger(__name__)
OK = "ok"


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue
    database: Database
    authenticator: Authenticator
    limits: RateLimits
    predictions: PredictionService
    consent: ConsentAccess | None = None
    retention: RetentionWriter | None = None
    erasure: ImageErasure | None = None
    # The development key's notice (embedded mode, generated key): printed once the port accepts.
    dev_key_notice: str | None = None
    engines: dict[str, InferenceEngine] = field(default_factory=dict)
    model_errors: dict[str, str] = field(default_factory=dict)
    # SIGTERM arrived: still serving while the endpoints update, but no longer ready.
    draining: bool = False
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    # --- models -------------------------------------------------------------------------
    async def load_models(self) -> None:
        """Start every task's engine. Every worker pool is launched before any is waited on, so the
        children's imports and model loads overlap (start-up is CPU-bound: a child takes seconds to
        load torch)."""
        settings = self.settings
        starting: list[tuple[str, WorkerPool, list]] = []
        try:
            for task in settings.tasks:
                uri = settings.model_uri(task)
                try:
                    if settings.inference_worker == "process":
                        source = await asyncio.to_thread(resolve_model, uri)
                        pool = WorkerPool.sized_for(
                            source, len(settings.tasks), settings.inference_processes, settings.device
                        )
                        try:
                            starting.append((task, pool, pool.launch()))
                        except OSError as exc:  # could not start a process (limits, memory)
                            self._failed(task, source.manifest, "invalid", exc)
                        continue
                    from florai.models.loader import load_model  # thread mode: the model lives here

                    model = await asyncio.to_thread(load_model, uri, settings.device)
                except ModelLoadError as exc:
                    record_load_failure(exc, uri)
                    self.model_errors[task] = str(exc)
                    log.error("model load failed", extra={"task": task, "uri": uri, "error": str(exc)})
                    continue
                await self._serve(task, ThreadRunner(model, settings.effective_decode_threads))
            while starting:
                task, pool, launched = starting.pop(0)
                try:
                    await asyncio.to_thread(pool.wait_ready, launched)
                except WorkerError as exc:
                    self._failed(task, pool.manifest, exc.reason, exc)
                    continue
                await self._serve(task, pool)
        finally:  # cancelled or failed part-way: no child outlives the start
            for _, _, launched in starting:
                WorkerPool.abort(launched)

    def _failed(self, task: str, manifest: ModelManifest, reason: str, exc: Exception) -> None:
        MODEL_LOAD_FAILURES.labels(model=manifest.name, reason=reason).inc()
        MODEL_LOADED.labels(model=manifest.name).set(0)
        self.model_errors[task] = str(exc)
        log.error("inference worker failed", extra={"task": task, "error": str(exc)})

    async def _serve(self, task: str, runner: ThreadRunner | WorkerPool) -> None:
        settings = self.settings
        engine = Engine(runner, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue)
        await engine.start()
        manifest = engine.manifest
        self.engines[task] = engine
        self.predictions.names[task] = label_names(self.catalogue, task)
        MODEL_LOADED.labels(model=manifest.name).set(1)
        MODEL_INFO.labels(model=manifest.name, version=manifest.version, task=task, device=engine.device).set(
            1
        )
        log.info("model loaded", extra={"task": task, "model": manifest.name, "version": manifest.version})

    # --- background work ------------------------------------------------------------------
    def start_background(self) -> None:
        """The kept-image sweep (withdrawn consent, retention period), when images can be kept here."""
        if self.erasure is not None:
            self._background.append(asyncio.get_running_loop().create_task(self.erasure.run(), name="sweep"))

    async def drain(self, timeout: float) -> None:
        """Finish queued inference (bounded by ``timeout``), then stop the workers and the sweep."""
        for task in self._background:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(e.drain(timeout) for e in self.engines.values()), return_exceptions=True)
        for engine in self.engines.values():
            MODEL_LOADED.labels(model=engine.manifest.name).set(0)

    def close(self) -> None:
        self.database.dispose()

    # --- readiness ----------------------------------------------------------------------
    def readiness_checks(self) -> dict[str, str]:
        """One word per check (details of a failure are in the log, never in the answer)."""
        checks = {
            f"model:{task}": OK
            if task in self.engines
            else "failed"
            if task in self.model_errors
            else "loading"
            for task in self.settings.tasks
        }
        checks["database"] = OK if self.database.ping() else "unreachable"
        if self.draining:
            checks["server"] = "draining"
        return checks
