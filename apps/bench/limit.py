"""In-process measurements: the limit (decode + preprocess + forward at a batch size, tight loop) and
the naive baseline (the same at batch size 1: one request, one synchronous forward).

The limit is the best the machine does, whatever the layout: one loop with every CPU's intra-op
thread, or one single-threaded loop per CPU in its own process (``ParallelLoops``), run at once.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection

import torch

from florai.inference.images import decode_for_model
from florai.inference.runtime import THREADS_ENV
from florai.models.loader import LoadedModel

BATCH_SIZES = (1, 4, 8, 16, 32)
START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Throughput:
    batch_size: int
    images: int
    seconds: float
    cpu_seconds: float
    layout: str = "1 loop"

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds

    @property
    def cpu_ms_per_image(self) -> float:
        return 1000 * self.cpu_seconds / self.images


def decode_preprocess_forward(
    model: LoadedModel, photos: list[bytes], batch_size: int, seconds: float
) -> Throughput:
    """Whole batches (decode + preprocess each image, stack, forward) back to back for about ``seconds``."""
    cycle = itertools.cycle(photos)

    def run_batch() -> torch.Tensor:
        tensors = [decode_for_model(next(cycle), model.manifest)[1] for _ in range(batch_size)]
        return model.predict(torch.stack(tensors))

    run_batch()  # warm-up (first-call allocations for this batch size)
    images, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while True:
        run_batch()
        images += batch_size
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return Throughput(batch_size, images, elapsed, time.process_time() - cpu_started)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Torch intra-op threads set to 1 for the block (the single-image time at one thread)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _loop_child(folder: str, photos: list[bytes], conn: Connection) -> None:
    from florai.models.loader import load_model

    model = load_model(folder, device="cpu")  # single-threaded: THREADS_ENV=1 in this child
    conn.send("ready")
    while True:
        try:
            command = conn.recv()
        except EOFError:
            return
        if command is None:
            return
        batch_size, seconds = command
        conn.send(decode_preprocess_forward(model, photos, batch_size, seconds))


class ParallelLoops:
    """``processes`` single-threaded loops in child processes, run at the same moment: the layout
    the service's worker pool uses (florai.inference.worker.WorkerPool)."""

    def __init__(self, folder: str, photos: list[bytes], processes: int) -> None:
        self.processes = processes
        context = multiprocessing.get_context("spawn")
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        saved = os.environ.get(THREADS_ENV)
        os.environ[THREADS_ENV] = "1"  # inherited by the spawned children only
        try:
            for _ in range(processes):
                parent, child = context.Pipe()
                process = context.Process(target=_loop_child, args=(folder, photos, child), daemon=True)
                process.start()
                child.close()
                self._children.append((process, parent))
        finally:
            if saved is None:
                os.environ.pop(THREADS_ENV, None)
            else:
                os.environ[THREADS_ENV] = saved
        for _, parent in self._children:
            if not parent.poll(START_TIMEOUT_S) or parent.recv() != "ready":
                self.close()
                raise RuntimeError("a benchmark loop process did not start")

    def run(self, batch_size: int, seconds: float) -> Throughput:
        """Every loop for about ``seconds`` at once; images of all over the longest loop's time."""
        for _, parent in self._children:
            parent.send((batch_size, seconds))
        runs = [parent.recv() for _, parent in self._children]
        return Throughput(
            batch_size,
            images=sum(r.images for r in runs),
            seconds=max(r.seconds for r in runs),
            cpu_seconds=sum(r.cpu_seconds for r in runs),
            layout=f"{self.processes} loops x 1 thread",
        )

    def close(self) -> None:
        for process, parent in self._children:
            with suppress(OSError):
                parent.send(None)
            parent.close()
            process.join(10)
            if process.is_alive():
                process.kill()
        self._children = []
