"""In-process measurements: the limit (decode + preprocess + forward at a batch size, tight loop) and
the naive baseline (the same at batch size 1: one request, one synchronous forward)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import torch

from florai.inference.images import decode_for_model
from florai.models.loader import LoadedModel

BATCH_SIZES = (1, 4, 8, 16, 32)


@dataclass(frozen=True)
class Throughput:
    batch_size: int
    images: int
    seconds: float
    cpu_seconds: float

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
