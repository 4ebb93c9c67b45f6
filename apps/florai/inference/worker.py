"""Decode, preprocess and forward in a child process: its own interpreter, so its own GIL.

A graph loaded from a torch.export ``.pt2`` runs op by op from Python, and every op takes the
GIL back when it returns. In the server's process the event loop (HTTP parsing, JSON) and the
consent writes hold the GIL too, so each op can wait up to the switch interval: measured here,
a forward that takes 12 ms alone took 36-43 ms beside a thread doing Python work.

An ``InferenceWorker`` owns one child per model. The batcher hands it the raw uploads of a
batch; the child decodes and preprocesses each one, then runs one forward pass over those that
decoded: the same work, in the same thread, as the tight loop ``make bench`` calls the limit.
The event loop talks to the child over a pipe (no thread hops: the reply wakes the loop
directly); an image the child cannot decode comes back as that image's ``ImageError``.

The child loads the same verified folder (sha256 checked again), ignores SIGINT/SIGTERM (the
server owns shutdown and drains first) and exits when the pipe closes, so it never outlives the
server. A child that dies fails only the batch in flight; the next batch starts a new child.

A ``WorkerPool`` runs several children for one model, each taking whole batches (data
parallelism). On CPU this beats one child with several intra-op threads: a single-threaded
forward wastes nothing at OpenMP barriers, and when the server's own work takes a CPU it slows
one child instead of stalling both threads of a team (measured on 2 vCPUs, batch 8: two
single-threaded loops 118-129 images/s together, one loop with two threads 74-97). The pool
gives a batch every CPU's thread when no other child is busy and each child its share of the
CPUs when several are: a lone image at light load runs on every CPU's thread too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np
import torch
import torch.multiprocessing as torch_mp

from florai.inference.images import (
    CorruptImageError,
    DecompressionBombError,
    ImageError,
    UnsupportedImageError,
)
from florai.inference.runtime import default_processes, torch_threads

log = logging.getLogger(__name__)

# How long a child may take to import torch and load its model before start-up counts as failed.
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0
_RUN, _STOP = "run", "stop"
# Batches a child may hold at once: the one it runs and the next, waiting in its pipe.
PIPELINE_DEPTH = 2
GOMP_SPINCOUNT_ENV = "GOMP_SPINCOUNT"
# Spins before an idle OpenMP thread sleeps (libgomp counts about 100 000 per millisecond).
GOMP_SPINCOUNT = 30_000
# Errors the child reports per image, by class name, rebuilt as the same class here.
_IMAGE_ERRORS = {
    cls.__name__: cls
    for cls in (ImageError, UnsupportedImageError, CorruptImageError, DecompressionBombError)
}


class WorkerError(RuntimeError):
    """The inference child failed to start, failed a forward pass, or exited while it held a batch."""


@dataclass(frozen=True)
class BatchOutcome:
    """Per image: its probabilities [C] or the exception for that image; and how long each step took."""

    results: list[torch.Tensor | Exception]
    decode_s: list[float]
    forward_s: float

    @property
    def forwarded(self) -> int:
        return sum(1 for r in self.results if isinstance(r, torch.Tensor))


def _decode_all(model: Any, payload: list[bytes]) -> tuple[list[torch.Tensor], list[Any], list[float]]:
    from florai.inference.images import decode_for_model

    tensors, errors, decode_s = [], [], []
    for data in payload:
        started = time.perf_counter()
        try:
            tensors.append(decode_for_model(data, model.manifest)[1])
            errors.append(None)
        except ImageError as exc:
            errors.append((type(exc).__name__, str(exc)))
        decode_s.append(time.perf_counter() - started)
    return tensors, errors, decode_s


def _serve(folder: str, device: str, conn: Connection) -> None:
    """Child main: load the model, then decode + forward every batch the parent sends until told to
    stop. Each batch comes with its intra-op thread count (the pool decides; CPU only)."""
    # The parent owns shutdown: it drains its queue, then stops this child (or closes the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from florai.models.loader import load_model

    try:
        model = load_model(folder, device)
    except Exception as exc:  # reported to the parent, which raises it as a start failure
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    current_threads = torch.get_num_threads()
    conn.send(("ready", None))
    while True:
        try:
            command, payload, threads = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if command != _RUN:
            return
        try:
            if device == "cpu" and threads and threads != current_threads:
                torch.set_num_threads(threads)
                current_threads = threads
            tensors, errors, decode_s = _decode_all(model, payload)
            probabilities, forward_s = None, 0.0
            if tensors:
                started = time.perf_counter()
                probabilities = model.predict(torch.stack(tensors)).numpy()
                forward_s = time.perf_counter() - started
        except Exception as exc:  # a failing batch fails alone; the child lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("ok", (probabilities, errors, decode_s, forward_s)))


class InferenceWorker:
    """One model's child process; ``run_batch`` is awaited on the event loop, one batch at a time."""

    decodes_uploads = True

    def __init__(self, model: Any) -> None:
        if model.folder is None:
            raise ValueError("the model has no local folder for a worker process to load")
        self.manifest = model.manifest
        self.device = model.device
        self._folder = str(model.folder)
        self._context = torch_mp.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self._channel: _Channel | None = None  # the pipe as asyncio streams, opened on first use
        self._loop_locks: _LoopLocks | None = None
        self._abandoned = False  # a reply was given up mid-way (cancelled): the pipe is out of step
        self.outstanding = 0  # batches sent and not yet answered

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child and wait until its model is loaded (blocking); WorkerError when it cannot."""
        self.wait_ready(*self.launch())

    def launch(self) -> tuple[Any, Connection]:
        """Start the child process (its model loads in the background); ``wait_ready`` completes it."""
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(self._folder, self.device, child),
            name=f"florai-forward-{self.manifest.name}",
            daemon=True,
        )
        # The child's OpenMP threads spin briefly (about 0.3 ms) between parallel regions, then
        # sleep: within one forward pass the next region starts in microseconds, so a second
        # thread is not woken through the kernel dozens of times per image (PASSIVE: no spin), yet
        # it stops spinning soon after the batch, leaving the CPU to the server (libgomp's default
        # spins about 3 ms; ACTIVE for minutes). Measured at concurrency 1 here: p50 27.6 ms with
        # two threads per lone image and this spin vs 32.8 ms on one thread with PASSIVE; no loss
        # at concurrency 8 or 32. libgomp reads the variable once, at start-up, so setting it here
        # affects only processes started later.
        os.environ.setdefault(GOMP_SPINCOUNT_ENV, str(GOMP_SPINCOUNT))
        process.start()
        child.close()
        return process, parent

    def wait_ready(self, process: Any, parent: Connection) -> None:
        """Wait until the launched child reports its model loaded; WorkerError when it cannot."""
        try:
            if not parent.poll(START_TIMEOUT_S):
                process.kill()
                process.join()
                raise WorkerError(
                    f"inference worker for {self.manifest.name} did not start in {START_TIMEOUT_S:.0f} s"
                )
            status, detail = parent.recv()
        except (EOFError, OSError):
            process.join(5)
            status, detail = "error", f"exited with code {process.exitcode}"
        if status != "ready":
            process.join(5)
            parent.close()
            raise WorkerError(f"inference worker for {self.manifest.name} failed to start: {detail}")
        self._process, self._conn, self._abandoned = process, parent, False
        log.info("inference worker started", extra={"model": self.manifest.name, "pid": process.pid})

    async def run_batch(self, uploads: list[bytes], threads: int | None = None) -> BatchOutcome:
        """Decode + preprocess + forward ``uploads`` in the child; per image a row or its ImageError.

        ``threads``: intra-op threads for this batch (None: as the child last ran). Several calls may
        be in flight: the child takes the next batch from its pipe as soon as it finishes one."""
        self.outstanding += 1  # at once, before any await: the pool counts on it to choose a child
        try:
            status, detail = await self._send_and_wait(uploads, threads)
        finally:
            self.outstanding -= 1
        if status != "ok":
            raise WorkerError(f"inference failed in the worker: {detail}")
        probabilities, errors, decode_s, forward_s = detail
        rows = iter(torch.from_numpy(np.asarray(probabilities)) if probabilities is not None else ())
        results: list[torch.Tensor | Exception] = [
            next(rows) if error is None else _IMAGE_ERRORS.get(error[0], ImageError)(error[1])
            for error in errors
        ]
        return BatchOutcome(results, decode_s, forward_s)

    async def _send_and_wait(self, uploads: list[bytes], threads: int | None) -> tuple[str, Any]:
        locks = self._locks()
        if not self.alive or self._abandoned or not self._channel_on(locks.loop):
            async with locks.restart:  # one caller restarts or opens; the others wait for it
                if not self.alive or self._abandoned:
                    if self._process is not None:
                        log.error(
                            "inference worker lost; starting a new one",
                            extra={"model": self.manifest.name, "exit_code": self._process.exitcode},
                        )
                    await asyncio.to_thread(self._restart)
                if not self._channel_on(locks.loop):
                    if self._channel is not None:  # opened under an event loop that has since ended
                        self._channel.close()
                    self._channel = await _Channel.open(self._conn)
        channel = self._channel
        try:
            channel.send((_RUN, uploads, threads))  # buffered by the loop: never blocks it
            async with locks.replies:
                if channel is not self._channel or self._abandoned:
                    raise WorkerError(f"inference worker for {self.manifest.name} was replaced mid-batch")
                try:
                    return await channel.recv()
                except BaseException:  # cancelled or failed mid-reply: what is left of it comes next
                    self._abandoned = True
                    raise
        except (EOFError, OSError) as exc:
            await asyncio.to_thread(self._process.join, 5)
            code = self._process.exitcode
            state = f"exited (code {code})" if code is not None else f"lost contact ({exc!r})"
            raise WorkerError(f"inference worker for {self.manifest.name} {state}") from exc

    def _channel_on(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._channel is not None and self._channel.loop is loop

    def _locks(self) -> _LoopLocks:
        loop = asyncio.get_running_loop()
        if self._loop_locks is None or self._loop_locks.loop is not loop:
            self._loop_locks = _LoopLocks(loop)
        return self._loop_locks

    def _restart(self) -> None:
        self._stop()
        self.start()

    def close(self) -> None:
        """Stop the child (after its current batch) and release it."""
        self._stop()

    def _stop(self) -> None:
        process, conn, channel = self._process, self._conn, self._channel
        self._process, self._conn, self._channel = None, None, None
        if channel is not None:
            channel.close()
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send((_STOP, None, None))
            conn.close()
        if process is not None:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()


class _LoopLocks:
    """A worker's locks, for one event loop (asyncio locks belong to the loop they first wait on)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.restart = asyncio.Lock()  # restarting the child, opening the channel
        self.replies = asyncio.Lock()  # FIFO: replies come in the order the batches were sent


class _Channel:
    """The parent's end of a child's pipe as asyncio streams, in multiprocessing.Connection's framing
    (the child keeps its plain Connection). A batch is handed to the loop's transport, which writes
    it as the child reads: sending never blocks the event loop, even when the child is busy with
    the previous batch and the batch is larger than the socket buffer. A reply wakes the loop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, conn: Connection) -> _Channel:
        # A duplicate of the descriptor: the Connection keeps its own (closed separately).
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return cls(reader, writer)

    def send(self, message: Any) -> None:
        data = ForkingPickler.dumps(message, pickle.HIGHEST_PROTOCOL)
        size = len(data)
        header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
        self._writer.write(header)
        self._writer.write(data)

    async def recv(self) -> Any:
        (size,) = struct.unpack("!i", await self._reader.readexactly(4))
        if size == -1:
            (size,) = struct.unpack("!Q", await self._reader.readexactly(8))
        return pickle.loads(await self._reader.readexactly(size))

    def close(self) -> None:
        """Close from any thread: on the loop's own thread at once, from another thread through
        the loop; a loop that is gone took the transport with it (its socket closes when collected)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._writer.close()
        elif self.loop.is_running():
            self.loop.call_soon_threadsafe(self._writer.close)


class WorkerPool:
    """Several children for one model; the batcher runs up to ``lanes`` batches at once.

    ``total_threads`` is the model's CPU budget: a batch that runs while every other child is
    idle gets all of it, otherwise each child gets ``total_threads // processes`` (at least 1).

    Each child may hold PIPELINE_DEPTH batches: while it works on one, the next waits in its
    pipe, so under load it never idles between batches for the round trip to the event loop
    (measured here at concurrency 32: 3-4 ms per batch, with the loop busy with HTTP). The
    batcher sends such a second batch only when a full one is queued (``primary_lanes``), so at
    light load batches still form in the parent, where they can grow.
    """

    decodes_uploads = True

    def __init__(self, model: Any, processes: int, total_threads: int) -> None:
        if processes < 1 or total_threads < 1:
            raise ValueError("a worker pool needs at least one process and one thread")
        self.manifest = model.manifest
        self.device = model.device
        self.workers = [InferenceWorker(model) for _ in range(processes)]
        self.total_threads = total_threads
        self.shared_threads = max(1, total_threads // processes)
        self._idle = list(self.workers)  # no batch outstanding; the last one freed is used first

    @classmethod
    def sized_for(cls, model: Any, models: int, processes: int | None = None) -> WorkerPool:
        """The pool the service runs for ``model``, one of ``models`` served by this process: the
        CPU budget (florai.inference.runtime.torch_threads) as its threads, and ``processes``
        children (FLORAI_INFERENCE_PROCESSES) or else ``default_processes``."""
        threads = torch_threads()
        return cls(model, processes or default_processes(str(model.device), models, threads), threads)

    @property
    def lanes(self) -> int:
        return len(self.workers) * PIPELINE_DEPTH

    @property
    def primary_lanes(self) -> int:
        """Lanes that take any batch; the others take only full ones (to queue behind a busy child)."""
        return len(self.workers)

    @property
    def alive(self) -> bool:
        return all(worker.alive for worker in self.workers)

    @property
    def pids(self) -> list[int | None]:
        return [worker.pid for worker in self.workers]

    def start(self) -> None:
        """Start every child at once (their imports and model loads overlap), then wait for each."""
        self.wait_ready(self.launch())

    def launch(self) -> list[tuple[InferenceWorker, tuple[Any, Connection]]]:
        """Start every child without waiting for its model (a caller may launch other pools, or
        load models of its own, meanwhile); ``wait_ready`` completes the start."""
        launched = []
        try:
            for worker in self.workers:
                launched.append((worker, worker.launch()))
        except BaseException:
            self.abort(launched)
            raise
        return launched

    def wait_ready(self, launched: list[tuple[InferenceWorker, tuple[Any, Connection]]]) -> None:
        """Wait until every launched child has loaded its model; on a failure stop them all and
        raise (WorkerError names the reason)."""
        try:
            for worker, handles in launched:
                worker.wait_ready(*handles)
        except BaseException:
            self.abort(launched)
            raise

    @staticmethod
    def abort(launched: list[tuple[InferenceWorker, tuple[Any, Connection]]]) -> None:
        """Stop launched children, ready or not (a start that failed or was given up)."""
        for worker, (process, parent) in launched:
            worker.close()
            parent.close()
            if process.is_alive():
                process.kill()
                process.join()

    def threads_for(self) -> int:
        """Intra-op threads for the next batch: all of the budget when every other child is idle
        (a lone image included: its child's threads spin between the pass's parallel regions, see
        ``launch``), else this child's share."""
        alone = len(self._idle) == len(self.workers)
        return self.total_threads if alone else self.shared_threads

    def _choose(self) -> InferenceWorker:
        if self._idle:
            return self._idle.pop()
        worker = min(self.workers, key=lambda w: w.outstanding)
        if worker.outstanding >= PIPELINE_DEPTH:
            raise WorkerError(f"all {self.lanes} inference lanes of {self.manifest.name} are busy")
        return worker

    async def run_batch(self, uploads: list[bytes]) -> BatchOutcome:
        """Run a batch on an idle child, else queue it behind the least busy one. The batcher runs
        at most ``lanes`` batches at once."""
        threads = self.threads_for()
        worker = self._choose()
        try:
            return await worker.run_batch(uploads, threads)
        finally:
            if not worker.outstanding:
                self._idle.append(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
