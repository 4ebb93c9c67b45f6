"""Dynamic batcher: requests queue; a lane of the model takes everything queued (up to the max
batch size) the moment it is free and runs the forward pass: in its own thread, or in a worker
process (one lane per process of a florai.inference.worker.WorkerPool).

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from opentelemetry import context as otel_context
from opentelemetry import trace

from florai.inference.runtime import ForwardThreads
from florai.inference.runtime import torch_threads as configured_torch_threads
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
    """The forward pass of the batch this request was in failed."""


class Predictor(Protocol):
    manifest: Any

    def predict(self, batch: torch.Tensor) -> torch.Tensor: ...


@dataclass
class _Pending:
    item: Any  # a preprocessed tensor [3, H, W], or the upload's bytes for a worker that decodes
    future: asyncio.Future[torch.Tensor]
    enqueued: float
    trace_context: otel_context.Context


class Batcher:
    """Batches ``submit``ted images into forward passes.

    With an in-process model, items are preprocessed tensors [3, H, W] and ``model.predict`` runs
    in the batcher's forward thread. With a worker that decodes (``decodes_uploads``: a
    florai.inference.worker.InferenceWorker or WorkerPool), items are the uploads' bytes and the
    worker's ``run_batch`` is awaited on the loop; an image it cannot decode fails alone with its
    ImageError. A model with ``lanes`` > 1 (a pool of processes) runs that many batches at once.
    """

    def __init__(self, model: Predictor, max_batch_size: int, max_queue: int) -> None:
        if max_batch_size < 1 or max_queue < 1:
            raise ValueError("max_batch_size and max_queue must be at least 1")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_queue = max_queue
        self.name = model.manifest.name
        input_size = getattr(model.manifest, "input_size", None)
        self._input_shape = (3, *input_size) if input_size else None
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._lanes: list[asyncio.Task[None]] = []
        self._in_flight: dict[int, list[_Pending]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self.decodes_uploads = bool(getattr(model, "decodes_uploads", False))
        self.lanes = int(getattr(model, "lanes", 1)) if self.decodes_uploads else 1
        # Lanes past these take a batch only once a full one is queued (a worker pool's pipelining).
        self.primary_lanes = int(getattr(model, "primary_lanes", self.lanes)) if self.decodes_uploads else 1
        # Intra-op threads, set in the forward thread; a worker process sets its own.
        self._threads = (
            None
            if self.decodes_uploads
            else ForwardThreads(configured_torch_threads(), str(getattr(model, "device", "cpu")))
        )

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> bool:
        return any(not lane.done() for lane in self._lanes)

    async def start(self) -> None:
        """Start the lanes (and the forward thread of an in-process model) on the running event loop."""
        if self.running:
            return
        self._closing = False
        if not self.decodes_uploads:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"forward-{self.name}")
        loop = asyncio.get_running_loop()
        self._lanes = [
            loop.create_task(self._run(lane), name=f"batcher-{self.name}-{lane}")
            for lane in range(self.lanes)
        ]
        INFERENCE_QUEUE_CAPACITY.labels(model=self.name).set(self.max_queue)
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(0)

    async def submit(self, item: torch.Tensor | bytes) -> torch.Tensor:
        """Queue one image (a preprocessed tensor, or the upload's bytes when the model
        ``decodes_uploads``); returns its class probabilities [C]."""
        if self._closing or not self.running:
            raise BatcherClosedError(f"model {self.name} is not accepting work (draining or stopped)")
        if self.decodes_uploads != isinstance(item, bytes):
            wanted = "the upload's bytes" if self.decodes_uploads else "a preprocessed tensor"
            raise TypeError(f"model {self.name} takes {wanted}, got {type(item).__name__}")
        if (
            not self.decodes_uploads
            and self._input_shape is not None
            and tuple(item.shape) != self._input_shape
        ):
            raise ValueError(
                f"expected an image tensor of shape {self._input_shape}, got {tuple(item.shape)}"
            )
        if len(self._queue) >= self.max_queue:
            raise QueueFullError(f"inference queue for {self.name} is full ({self.max_queue} waiting)")
        future: asyncio.Future[torch.Tensor] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(item, future, time.perf_counter(), otel_context.get_current()))
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
        if self._executor is not None:
            self._executor.shutdown(wait=finished, cancel_futures=True)
            self._executor = None
        return finished

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.max_batch_size:
            pending = self._queue.popleft()
            if not pending.future.done():  # the client went away: skip its image
                batch.append(pending)
        INFERENCE_QUEUE_DEPTH.labels(model=self.name).set(len(self._queue))
        return batch

    def _forward(self, tensors: list[torch.Tensor]) -> tuple[torch.Tensor, float]:
        started = time.perf_counter()
        if self._threads is not None:
            self._threads.apply(len(tensors))
        probabilities = self.model.predict(torch.stack(tensors))
        return probabilities, time.perf_counter() - started

    async def _run(self, lane: int) -> None:
        loop = asyncio.get_running_loop()
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
                await self._run_batch(loop, batch)
                del self._in_flight[lane]

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list[_Pending]) -> None:
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
            if self.decodes_uploads:
                outcome = await self.model.run_batch([p.item for p in batch])
                results, duration = outcome.results, outcome.forward_s
                self._decode_spans(batch, started_ns, outcome.decode_s)
            else:
                probabilities, duration = await loop.run_in_executor(
                    self._executor, self._forward, [p.item for p in batch]
                )
                results = list(probabilities)
        except Exception as exc:  # fail this batch only; the worker lives on
            log.exception("forward pass failed for a batch of %d on model %s", len(batch), self.name)
            self._record_spans(batch, started_ns, error=exc)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(
                        InferenceError(f"inference failed on model {self.name}: {exc}")
                    )
            return
        forwarded = sum(1 for r in results if isinstance(r, torch.Tensor))
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
            confidence.observe(float(result.max()))
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
