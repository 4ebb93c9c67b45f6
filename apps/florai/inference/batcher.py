"""Dynamic batcher: jobs queue; a lane of the model's runner takes everything queued (up to the max
batch size) the moment it is free and runs it where the model lives: a worker process (one or two
lanes per process of a florai.inference.worker.WorkerPool), or the forward thread in thread mode
(florai.inference.engine.ThreadRunner).

No timer: a lone request starts at once, and under load batches form by themselves from what
arrived during the previous forward pass. The queue is bounded (``QueueFullError``, which the API
turns into 503 + Retry-After), a failing forward fails only its own batch, and ``drain`` finishes
queued work while refusing new work (SIGTERM).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace

from florai.inference.execution import BatchOutcome, Explanation, Job, Result
from florai.metrics import (
    INFERENCE_BATCH_SIZE,
    INFERENCE_DURATION,
    INFERENCE_QUEUE_CAPACITY,
    INFERENCE_QUEUE_DEPTH,
    INFERENCE_QUEUE_WAIT,
    PREDICTION_CONFIDENCE,
)

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class QueueFullError(RuntimeError):
    """The queue is at capacity (or the batcher is draining): shed the request with 503."""


class BatcherClosedError(QueueFullError):
    """The batcher is draining or stopped and takes no new work."""


class InferenceError(RuntimeError):
    """The batch this job was in failed as a whole (a forward pass or the worker failed)."""


class Runner(Protocol):
    """Where a model runs batches of jobs: ``lanes`` at once, the lanes past ``primary_lanes`` only
    for full batches (florai.inference.worker.WorkerPool, florai.inference.engine.ThreadRunner)."""

    manifest: Any
    lanes: int
    primary_lanes: int

    async def run_batch(self, jobs: list[Job]) -> BatchOutcome: ...


@dataclass
class _Pending:
    job: Job
    future: asyncio.Future[Result]
    enqueued: float
    trace_context: otel_context.Context


class Batcher:
    """Batches ``submit``ted jobs for the model's runner, which awaits each batch on the loop; an
    upload that does not decode fails alone with its ImageError. A runner with ``lanes`` > 1 (a
    pool of processes) runs that many batches at once.
    """

    def __init__(self, model: Runner, max_batch_size: int, max_queue: int) -> None:
        if max_batch_size < 1 or max_queue < 1:
            raise ValueError("max_batch_size and max_queue must be at least 1")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_queue = max_queue
        self.name = model.manifest.name
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._lanes: list[asyncio.Task[None]] = []
        self._in_flight: dict[int, list[_Pending]] = {}
        self.lanes = max(1, int(model.lanes))
        # Lanes past these take a batch only once a full one is queued (a worker pool's pipelining).
        self.primary_lanes = max(1, min(self.lanes, int(model.primary_lanes)))

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> bool:
        return any(not lane.done() for lane in self._lanes)

    async def start(self) -> None:
        """Start the lanes on the running event loop."""
        if self.running:
            return
        self._closing = False
        loop = asyncio.get_running_loop()
        self._lanes = [
            loop.create_task(self._run(lane), name=f"batcher-{self.name}-{lane}")
            for lane in range(self.lanes)
        ]
        INFERENCE_QUEUE_CAPACITY.labels(model=self.name).set(self.max_queue)
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(0)

    async def submit(self, job: Job) -> Result:
        """Queue one job; returns its Scores or Explanation (raises the upload's ImageError)."""
        if self._closing or not self.running:
            raise BatcherClosedError(f"model {self.name} is not accepting work (draining or stopped)")
        if len(self._queue) >= self.max_queue:
            raise QueueFullError(f"inference queue for {self.name} is full ({self.max_queue} waiting)")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(job, future, time.perf_counter(), otel_context.get_current()))
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(len(self._queue))
        self._wakeup.set()
        return await future

    async def drain(self, timeout: float) -> bool:
        """Refuse new work, finish queued and in-flight batches within ``timeout`` seconds, stop.

        Returns True when everything finished; otherwise what is left fails with BatcherClosedError.
        """
        self._closing = True
        self._wakeup.set()
        lanes = [lane for lane in self._lanes if not lane.done()]
        finished = True
        if lanes:
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*lanes)), timeout)
            except TimeoutError:
                finished = False
                for lane in lanes:
                    lane.cancel()
                await asyncio.gather(*lanes, return_exceptions=True)
        leftovers = [*(p for batch in self._in_flight.values() for p in batch), *self._queue]
        self._in_flight, self._queue = {}, deque()
        for pending in leftovers:
            if not pending.future.done():
                pending.future.set_exception(
                    BatcherClosedError(f"model {self.name} stopped before this request ran")
                )
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(0)
        return finished

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.max_batch_size:
            pending = self._queue.popleft()
            if not pending.future.done():  # the client went away: skip its image
                batch.append(pending)
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(len(self._queue))
        return batch

    async def _run(self, lane: int) -> None:
        # A primary lane takes whatever is queued; another only a full batch (then it queues it
        # behind a busy worker rather than splitting the queue into small batches).
        wanted = 1 if lane < self.primary_lanes else self.max_batch_size
        while True:
            while len(self._queue) < wanted:
                if self._closing and (not self._queue or wanted > 1):
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
            batch = self._take_batch()
            if batch:
                self._in_flight[lane] = batch
                await self._run_batch(batch)
                del self._in_flight[lane]

    async def _run_batch(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        started_ns = time.time_ns()
        for pending in batch:
            wait = started - pending.enqueued
            INFERENCE_QUEUE_WAIT.labels(model=self.name).observe(wait)
            span = tracer.start_span(
                "queue_wait", context=pending.trace_context, start_time=started_ns - int(wait * 1e9)
            )
            span.end(end_time=started_ns)
        try:
            outcome = await self.model.run_batch([p.job for p in batch])
            results, duration = outcome.results, outcome.forward_s
            self._decode_spans(batch, started_ns, outcome.decode_s)
        except Exception as exc:  # fail this batch only; the worker lives on
            log.exception("forward pass failed for a batch of %d on model %s", len(batch), self.name)
            self._record_spans(batch, started_ns, error=exc)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(
                        InferenceError(f"inference failed on model {self.name}: {exc}")
                    )
            return
        forwarded = sum(1 for r in results if not isinstance(r, Exception))
        if forwarded:
            INFERENCE_DURATION.labels(model=self.name).observe(duration)
            INFERENCE_BATCH_SIZE.labels(model=self.name).observe(forwarded)
        self._record_spans(batch, started_ns)
        confidence = PREDICTION_CONFIDENCE.labels(model=self.name)
        for pending, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                if not pending.future.done():
                    pending.future.set_exception(result)
                continue
            confidence.observe((result.scores if isinstance(result, Explanation) else result).top)
            if not pending.future.done():
                pending.future.set_result(result)

    def _decode_spans(self, batch: list[_Pending], started_ns: int, decode_s: list[float]) -> None:
        """One ``decode`` span per request, from the worker's timings (it decodes them in order)."""
        at = started_ns
        for pending, seconds in zip(batch, decode_s, strict=True):
            end = at + int(seconds * 1e9)
            tracer.start_span("decode", context=pending.trace_context, start_time=at).end(end_time=end)
            at = end

    def _record_spans(self, batch: list[_Pending], started_ns: int, error: Exception | None = None) -> None:
        """One ``inference`` span per request, under the request's own trace, covering its batch."""
        ended_ns = time.time_ns()
        for pending in batch:
            span = tracer.start_span(
                "inference",
                context=pending.trace_context,
                start_time=started_ns,
                attributes={"florai.model": self.name, "florai.batch_size": len(batch)},
            )
            if error is not None:
                span.record_exception(error)
                span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
            span.end(end_time=ended_ns)
