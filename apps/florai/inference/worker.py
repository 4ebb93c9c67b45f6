"""Decode, preprocess and forward in a child process: its own interpreter, so its own GIL.

A graph loaded from a torch.export ``.pt2`` runs op by op from Python, and every op takes the
GIL back when it returns. In the server's process the event loop (HTTP parsing, JSON) and the
consent writes hold the GIL too, so each op can wait up to the switch interval: measured here,
a forward that takes 12 ms alone took 36-43 ms beside a thread doing Python work.

An ``InferenceWorker`` owns one child per model. The batcher hands it the jobs of a batch (the
raw uploads, each to score or to explain); the child decodes and preprocesses each one once, then
runs one forward pass over those to score and one forward + backward pass (Grad-CAM) over those to
explain (florai.inference.execution): the same work, in the same thread, as the tight loop
``make bench`` calls the limit. The server process loads no model at all. The event loop talks to
the child over a pipe (no thread hops: the reply wakes the loop directly); an image the child
cannot decode comes back as that image's ``ImageError``.

The child verifies the model folder (sha256) and loads it, ignores SIGINT/SIGTERM (the server owns
shutdown and drains first) and exits when the pipe closes, so it never outlives the server. A
child that dies fails only the batch in flight; the next batch starts a new child. A child decodes
untrusted images, so it starts with an environment stripped to what Python, torch and the CPU or
GPU runtime read: no database URL, JWT key, API key pepper or cloud credentials.

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
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, Protocol

from florai.inference.execution import BatchOutcome, Job
from florai.inference.runtime import THREADS_ENV, default_processes, device_hint, torch_threads
from florai.models.manifest import ModelManifest

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
# What a child's environment keeps: the variables Python, torch, its OpenMP/MKL runtimes and CUDA
# read. Everything else stays in the server process.
WORKER_ENV_NAMES = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH", THREADS_ENV}
)
WORKER_ENV_PREFIXES = (
    "PYTHON",
    "LC_",
    "OMP_",
    "GOMP_",
    "KMP_",
    "MKL_",
    "OPENBLAS_",
    "CUDA_",
    "NVIDIA_",
    "TORCH",
)
_ENVIRON_LOCK = threading.Lock()


class WorkerError(RuntimeError):
    """The inference child failed to start, failed a batch, or exited while it held a batch.
    ``reason``: why a start failed, as florai_model_load_failures counts it (missing, checksum...)."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class ModelFiles(Protocol):
    """What a worker needs to know of a model: its verified local folder and its manifest
    (florai.models.source.ModelSource; a LoadedModel has both too)."""

    folder: Any
    manifest: ModelManifest


def worker_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` reduced to what a worker process needs (WORKER_ENV_NAMES and WORKER_ENV_PREFIXES)."""
    return {k: v for k, v in environ.items() if k in WORKER_ENV_NAMES or k.startswith(WORKER_ENV_PREFIXES)}


@contextlib.contextmanager
def worker_environ() -> Iterator[None]:
    """The process environment reduced for the block (a spawned child inherits ``os.environ`` as it is
    when it starts; multiprocessing takes no environment of its own), then restored; one start at a
    time. The block lasts one fork-exec: a thread of the server that reads the environment in that
    moment (none does on the request path) would see it reduced."""
    with _ENVIRON_LOCK:
        saved = dict(os.environ)
        kept = worker_environment(saved)
        try:
            for name in set(saved) - set(kept):
                del os.environ[name]
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _serve(folder: str, device: str | None, conn: Connection) -> None:
    """Child main: load the model, then run every batch of jobs the parent sends until told to stop.
    Each batch comes with its intra-op thread count (the pool decides; CPU only)."""
    # The parent owns shutdown: it drains its queue, then stops this child (or closes the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import torch

    from florai.inference.execution import run_jobs
    from florai.models.loader import load_model

    try:
        model = load_model(folder, device)
    except Exception as exc:  # reported to the parent, which raises it as a start failure
        conn.send(("error", (f"{type(exc).__name__}: {exc}", getattr(exc, "reason", "invalid"))))
        return
    current_threads = torch.get_num_threads()
    conn.send(("ready", model.device))
    while True:
        try:
            command, jobs, threads = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if command != _RUN:
            return
        try:
            if model.device == "cpu" and threads and threads != current_threads:
                torch.set_num_threads(threads)
                current_threads = threads
            outcome = run_jobs(model, jobs)
        except Exception as exc:  # a failing batch fails alone; the child lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("ok", outcome))


class InferenceWorker:
    """One model's child process; ``run_batch`` is awaited on the event loop.

    ``device``: what the child loads the model onto (None: CUDA when it sees a GPU, else the CPU);
    once it started, ``device`` is the one it chose."""

    def __init__(self, model: ModelFiles, device: str | None = None) -> None:
        if model.folder is None:
            raise ValueError("the model has no local folder for a worker process to load")
        self.manifest = model.manifest
        self.device = device
        self._folder = str(model.folder)
        self._context = multiprocessing.get_context("spawn")
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
        with worker_environ():  # the child inherits the environment as it is at this moment
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
            status, detail = "error", (f"exited with code {process.exitcode}", "invalid")
        if status != "ready":
            process.join(5)
            parent.close()
            message, reason = detail
            raise WorkerError(f"inference worker for {self.manifest.name} failed to start: {message}", reason)
        self._process, self._conn, self._abandoned, self.device = process, parent, False, detail
        log.info("inference worker started", extra={"model": self.manifest.name, "pid": process.pid})

    async def run_batch(self, jobs: list[Job], threads: int | None = None) -> BatchOutcome:
        """Run ``jobs`` in the child; per job its Scores or Explanation, or its upload's ImageError.

        ``threads``: intra-op threads for this batch (None: as the child last ran). Several calls may
        be in flight: the child takes the next batch from its pipe as soon as it finishes one."""
        self.outstanding += 1  # at once, before any await: the pool counts on it to choose a child
        try:
            status, detail = await self._send_and_wait(jobs, threads)
        finally:
            self.outstanding -= 1
        if status != "ok":
            raise WorkerError(f"inference failed in the worker: {detail}")
        return detail

    async def _send_and_wait(self, jobs: list[Job], threads: int | None) -> tuple[str, Any]:
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
            channel.send((_RUN, jobs, threads))  # buffered by the loop: never blocks it
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

    def __init__(
        self, model: ModelFiles, processes: int, total_threads: int, device: str | None = None
    ) -> None:
        if processes < 1 or total_threads < 1:
            raise ValueError("a worker pool needs at least one process and one thread")
        self.manifest = model.manifest
        self.workers = [InferenceWorker(model, device) for _ in range(processes)]
        self.total_threads = total_threads
        self.shared_threads = max(1, total_threads // processes)
        self._idle = list(self.workers)  # no batch outstanding; the last one freed is used first

    @classmethod
    def sized_for(
        cls, model: ModelFiles, models: int, processes: int | None = None, device: str | None = None
    ) -> WorkerPool:
        """The pool the service runs for ``model``, one of ``models`` served by this process: the
        CPU budget (florai.inference.runtime.torch_threads) as its threads, and ``processes``
        children (FLORAI_INFERENCE_PROCESSES) or else ``default_processes`` for the device the
        children will pick (florai.inference.runtime.device_hint)."""
        threads = torch_threads()
        count = processes or default_processes(device_hint(device), models, threads)
        return cls(model, count, threads, device)

    @property
    def device(self) -> str | None:
        """The device the children loaded the model onto (None until one started)."""
        return next((w.device for w in self.workers if w.device), None)

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

    async def run_batch(self, jobs: list[Job]) -> BatchOutcome:
        """Run a batch on an idle child, else queue it behind the least busy one. The batcher runs
        at most ``lanes`` batches at once."""
        threads = self.threads_for()
        worker = self._choose()
        try:
            return await worker.run_batch(jobs, threads)
        finally:
            if not worker.outstanding:
                self._idle.append(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
