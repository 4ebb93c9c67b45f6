"""In-process measurements: (a) the limit, decode + preprocess + forward at the best batch size,
and (c) the naive baseline, one image at a time, decode + preprocess + forward(batch=1)."""

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

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds

    @property
    def seconds_per_image(self) -> float:
        return self.seconds / self.images


def decode_preprocess_forward(
    model: LoadedModel, photos: list[bytes], batch_size: int, seconds: float
) -> Throughput:
    """Tight loop of whole batches (decode + preprocess each image, stack, forward) for about ``seconds``."""
    cycle = itertools.cycle(photos)

    def run_batch() -> torch.Tensor:
        tensors = [decode_for_model(next(cycle), model.manifest)[1] for _ in range(batch_size)]
        return model.predict(torch.stack(tensors))

    run_batch()  # warm-up (first-call allocations)
    images, started = 0, time.perf_counter()
    while True:
        run_batch()
        images += batch_size
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return Throughput(batch_size, images, elapsed)


def measure_limit(model: LoadedModel, photos: list[bytes], seconds_each: float) -> list[Throughput]:
    return [decode_preprocess_forward(model, photos, size, seconds_each) for size in BATCH_SIZES]


def measure_naive(model: LoadedModel, photos: list[bytes], seconds: float) -> Throughput:
    """One request, one synchronous forward: the single-image handler without batching."""
    return decode_preprocess_forward(model, photos, 1, seconds)
