"""The forward pass in a child process: its own interpreter, so its own GIL.

A graph loaded from a torch.export ``.pt2`` runs op by op from Python, and every op takes the
GIL back when it returns. In the server's process the event loop (HTTP parsing, JSON), the
decode threads and the consent writes hold the GIL too, so each op can wait up to the switch
interval: measured here, a forward that takes 12 ms alone took 36-43 ms beside a thread doing
Python work. A child process runs the same graph at tight-loop speed whatever the server does.

``ProcessPredictor`` has ``LoadedModel.predict``'s signature, so the batcher does not know the
difference. Batches travel through two shared-memory tensors (inputs [max_batch, 3, H, W] and
probabilities [max_batch, C]); the pipe carries only the batch size and the outcome. The child
loads the same verified folder (sha256 checked again), ignores SIGINT/SIGTERM (the server owns
shutdown and drains first) and exits when the pipe closes, so it never outlives the server. A
child that dies fails only the batch in flight; the next batch starts a new child.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import torch
import torch.multiprocessing as torch_mp

from florai.inference.runtime import ForwardThreads, torch_threads

log = logging.getLogger(__name__)

# How long a child may take to import torch and load its model before start-up counts as failed.
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0
_RUN, _STOP = "run", "stop"


class WorkerError(RuntimeError):
    """The inference child failed to start, or exited while it held a batch."""


def _serve(folder: str, device: str, inputs: torch.Tensor, outputs: torch.Tensor, conn: Connection) -> None:
    """Child main: load the model, then run every batch the parent announces until told to stop."""
    # The parent owns shutdown: it drains its queue, then stops this child (or closes the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from florai.models.loader import load_model

    try:
        model = load_model(folder, device)
    except Exception as exc:  # reported to the parent, which raises it as a load failure
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    threads = ForwardThreads(torch_threads(), device, lone_threads=torch_threads())
    conn.send(("ready", None))
    while True:
        try:
            command, size = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if command != _RUN:
            return
        started = time.perf_counter()
        try:
            threads.apply(size)
            outputs[:size] = model.predict(inputs[:size])
        except Exception as exc:  # a failing batch fails alone; the child lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("ok", time.perf_counter() - started))


class ProcessPredictor:
    """``predict`` runs in a child process; ``manifest`` and ``device`` are the loaded model's.

    Calls must come from one thread at a time (the batcher's forward thread).
    """

    runs_in_subprocess = True

    def __init__(self, model: Any, max_batch_size: int) -> None:
        if model.folder is None:
            raise ValueError("the model has no local folder for a worker process to load")
        self.manifest = model.manifest
        self.device = model.device
        self._folder = str(model.folder)
        self._max_batch = max_batch_size
        height, width = self.manifest.input_size
        self._inputs = torch.empty(max_batch_size, 3, height, width).share_memory_()
        self._outputs = torch.empty(max_batch_size, self.manifest.num_classes).share_memory_()
        self._context = torch_mp.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child and wait until its model is loaded; WorkerError when it cannot."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(self._folder, self.device, self._inputs, self._outputs, child),
            name=f"florai-forward-{self.manifest.name}",
            daemon=True,
        )
        process.start()
        child.close()
        try:
            if not parent.poll(START_TIMEOUT_S):
                raise WorkerError(
                    f"inference worker for {self.manifest.name} did not start in {START_TIMEOUT_S:.0f} s"
                )
            status, detail = parent.recv()
        except (EOFError, OSError):
            status, detail = "error", f"exited with code {process.join(5) or process.exitcode}"
        except WorkerError:
            process.kill()
            process.join()
            raise
        if status != "ready":
            process.join(5)
            raise WorkerError(f"inference worker for {self.manifest.name} failed to start: {detail}")
        self._process, self._conn = process, parent
        log.info("inference worker started", extra={"model": self.manifest.name, "pid": process.pid})

    def predict(self, batch: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities [N, C] for a preprocessed batch [N, 3, H, W] (N <= max batch size)."""
        size = batch.shape[0]
        if size > self._max_batch:
            raise ValueError(f"batch of {size} is larger than the worker's {self._max_batch}")
        with self._lock:
            if not self.alive:
                if self._process is not None:
                    log.error(
                        "inference worker exited; starting a new one",
                        extra={"model": self.manifest.name, "exit_code": self._process.exitcode},
                    )
                self._stop()
                self._start()
            self._inputs[:size].copy_(batch)
            try:
                self._conn.send((_RUN, size))
                status, detail = self._conn.recv()
            except (EOFError, OSError) as exc:
                code = self._process.join(5) or self._process.exitcode
                raise WorkerError(f"inference worker for {self.manifest.name} exited (code {code})") from exc
            if status != "ok":
                raise WorkerError(detail)
            return self._outputs[:size].clone()

    def close(self) -> None:
        """Stop the child (after its current batch) and release it."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send((_STOP, 0))
            conn.close()
        if process is not None:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()


def start_predictor(model: Any, max_batch_size: int) -> ProcessPredictor:
    predictor = ProcessPredictor(model, max_batch_size)
    predictor.start()
    return predictor
