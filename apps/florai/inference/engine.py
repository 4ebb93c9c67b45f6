"""One engine per task: ``predict`` and ``explain`` an upload, both run where the model lives, behind
the task's dynamic batcher.

Process mode (the default): the model lives in a pool of worker processes
(florai.inference.worker.WorkerPool); this process reads the model's manifest and never loads its
weights or decodes an image. Thread mode: the model is loaded here and a ``ThreadRunner`` runs the
same jobs (florai.inference.execution.run_jobs) in a forward thread, decoding in a thread pool.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from florai.inference.batcher import Batcher, Runner
from florai.inference.execution import BatchOutcome, Explanation, Job, Scores, run_jobs
from florai.inference.runtime import ForwardThreads, torch_threads
from florai.models.manifest import ModelManifest


class Engine:
    """A task's model: ``predict`` gives an upload's top classes, ``explain`` adds the Grad-CAM
    overlay of the top one; an upload that does not decode raises its ImageError."""

    def __init__(self, runner: Runner, max_batch_size: int, max_queue: int) -> None:
        self.runner = runner
        self.batcher = Batcher(runner, max_batch_size=max_batch_size, max_queue=max_queue)

    @property
    def manifest(self) -> ModelManifest:
        return self.runner.manifest

    @property
    def device(self) -> str:
        return str(getattr(self.runner, "device", None) or "cpu")

    async def start(self) -> None:
        await self.batcher.start()

    async def predict(self, data: bytes) -> Scores:
        return await self.batcher.submit(Job(data))  # type: ignore[return-value]

    async def explain(self, data: bytes) -> Explanation:
        return await self.batcher.submit(Job(data, explain=True))  # type: ignore[return-value]

    async def drain(self, timeout: float) -> bool:
        """Finish queued work within ``timeout`` (refusing new work), then stop the runner."""
        try:
            return await self.batcher.drain(timeout)
        finally:
            await asyncio.to_thread(self.runner.close)


class ThreadRunner:
    """A model loaded in this process (thread mode): one batch at a time in a forward thread, the
    batch's uploads decoded in ``decode_threads`` threads (Pillow and NumPy release the GIL)."""

    lanes = 1
    primary_lanes = 1

    def __init__(self, model: Any, decode_threads: int) -> None:
        self.model = model
        self.manifest = model.manifest
        self.device = model.device
        self._forward = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"forward-{model.manifest.name}")
        self._decode = ThreadPoolExecutor(max_workers=decode_threads, thread_name_prefix="florai-decode")
        # Intra-op threads, set in the forward thread (OpenMP settings are per thread).
        self._threads = ForwardThreads(torch_threads(), str(model.device))

    def _run(self, jobs: list[Job]) -> BatchOutcome:
        self._threads.apply(len(jobs))
        return run_jobs(self.model, jobs, decode_map=self._decode.map)

    async def run_batch(self, jobs: list[Job]) -> BatchOutcome:
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._forward, context.run, self._run, jobs)

    def close(self) -> None:
        self._forward.shutdown(wait=True, cancel_futures=True)
        self._decode.shutdown(wait=False, cancel_futures=True)
