"""One image through the service: size check, cache, decode + preprocess off the event loop, batcher, top-k.

Decoding runs in the runtime's bounded thread pool inside a ``decode`` span; the batcher
adds ``queue_wait`` and ``inference``. Cached entries hold the top MAX_TOP_K classes, so
any k up to that is served from one entry.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from florai.api.errors import invalid_image, unavailable, unsupported_media
from florai.api.runtime import Runtime
from florai.api.schemas import (
    MAX_TOP_K,
    CacheStatus,
    DiagnosisResponse,
    ModelRef,
    Prediction,
    PredictionResponse,
)
from florai.api.uploads import ImageUpload
from florai.cache import prediction_key
from florai.inference.batcher import InferenceError, QueueFullError
from florai.inference.images import (
    ImageError,
    UnsupportedImageError,
    decode_for_model,
    heatmap_overlay_png,
    preprocess,
)
from florai.metrics import CACHE_HITS, CACHE_MISSES
from florai.observability import tracer

T = TypeVar("T")


@dataclass(frozen=True)
class Scored:
    """The top classes of one prediction: (label index, probability), best first."""

    top: tuple[tuple[int, float], ...]

    def to_json(self) -> list[list[float]]:
        return [[i, p] for i, p in self.top]

    @classmethod
    def from_json(cls, value: Any) -> Scored:
        return cls(tuple((int(i), float(p)) for i, p in value))


async def in_pool(runtime: Runtime, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking work in the decode pool, keeping the current span and request id."""
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(runtime.decode_pool, ctx.run, fn, *args)


def _decode_and_preprocess(data: bytes, manifest: Any) -> tuple[Any, torch.Tensor]:
    with tracer.start_as_current_span("decode") as span:
        span.set_attribute("florai.image.bytes", len(data))
        image, tensor = decode_for_model(data, manifest)
        span.set_attribute("florai.image.width", image.width)
        span.set_attribute("florai.image.height", image.height)
        return image, tensor


@contextlib.contextmanager
def image_errors_as_http() -> Iterator[None]:
    """An image the service cannot use, wherever it was decoded: 415 for a refused format, else 422."""
    try:
        yield
    except UnsupportedImageError as exc:
        raise unsupported_media(str(exc)) from None
    except ImageError as exc:  # corrupt, truncated, decompression bomb
        raise invalid_image(str(exc)) from None


async def decode(runtime: Runtime, task: str, data: bytes) -> tuple[Any, torch.Tensor]:
    manifest = runtime.models[task].manifest
    with image_errors_as_http():
        return await in_pool(runtime, _decode_and_preprocess, data, manifest)


async def score(runtime: Runtime, task: str, item: torch.Tensor | bytes) -> Scored:
    """Top classes of one image: a preprocessed tensor, or the upload's bytes for a batcher whose
    worker process decodes (then its ImageError comes back from there as 415/422)."""
    try:
        with image_errors_as_http():
            probs = await runtime.batchers[task].submit(item)
    except QueueFullError:
        raise unavailable(
            "queue_full",
            f"the {task} model is at capacity; retry shortly",
            runtime.settings.queue_full_retry_after_s,
        ) from None
    except InferenceError as exc:
        # The batch failed inside the model (e.g. a GPU fault): the worker lives on, retrying is sound.
        raise unavailable("inference_failed", str(exc), runtime.settings.queue_full_retry_after_s) from None
    values, indices = torch.topk(probs.detach().float().cpu(), k=min(MAX_TOP_K, probs.shape[-1]))
    return Scored(tuple((int(i), float(v)) for i, v in zip(indices.tolist(), values.tolist(), strict=True)))


@dataclass(frozen=True)
class Outcome:
    """What a route needs after inference: the response and the decoded image (None on a cache hit)."""

    response: PredictionResponse
    image: Any | None
    digest: str


def loaded_model(runtime: Runtime, task: str) -> Any:
    """The task's model; 503 ``model_unavailable`` when it did not load here (``/readyz`` says
    why, and takes this instance out of its Service, so a retry lands on another)."""
    model = runtime.models.get(task)
    if model is None:
        raise unavailable(
            "model_unavailable",
            f"the {task} model is not loaded on this instance; retry shortly",
            runtime.settings.queue_full_retry_after_s,
        )
    return model


async def predict(runtime: Runtime, task: str, upload: ImageUpload, k: int) -> Outcome:
    model = loaded_model(runtime, task)
    manifest = model.manifest
    digest = hashlib.sha256(upload.data).hexdigest()
    key = prediction_key(manifest.name, manifest.version, digest)
    cached = await runtime.cache_get(key)
    image = None
    if cached is not None:
        CACHE_HITS.labels(model=manifest.name).inc()
        scored, status = Scored.from_json(cached), CacheStatus.hit
    else:
        CACHE_MISSES.labels(model=manifest.name).inc()
        if runtime.batchers[task].decodes_uploads:  # the worker process decodes: no image here
            scored = await score(runtime, task, upload.data)
        else:
            image, tensor = await decode(runtime, task, upload.data)
            scored = await score(runtime, task, tensor)
        status = CacheStatus.miss
        await runtime.cache_set(key, scored.to_json())
    labels = manifest.labels
    names = runtime.label_names[task]
    predictions = [
        Prediction(id=labels[i], name=names.get(labels[i], labels[i]), confidence=min(max(p, 0.0), 1.0))
        for i, p in scored.top[:k]
    ]
    response = PredictionResponse(
        task=task,
        predictions=predictions,
        model=ModelRef(name=manifest.name, version=manifest.version),
        cache=status,
        image_sha256=digest,
        organ=upload.metadata.organ,
        location=upload.metadata.location,
    )
    return Outcome(response, image, digest)


def _explain(model: Any, image: Any, class_index: int) -> tuple[int, bytes]:
    with tracer.start_as_current_span("explain"):
        tensor = preprocess(image, model.manifest)
        index, heatmap = model.explain(tensor, class_index)
        return index, heatmap_overlay_png(image, heatmap)


async def explain(runtime: Runtime, task: str, outcome: Outcome, upload: ImageUpload) -> DiagnosisResponse:
    """Add the Grad-CAM overlay of the top class (decoding again when the scores came from the cache)."""
    image = outcome.image
    if image is None:
        image, _ = await decode(runtime, task, upload.data)
    model = runtime.models[task]
    top_label = outcome.response.predictions[0].id
    class_index = model.manifest.labels.index(top_label)
    _, png = await in_pool(runtime, _explain, model, image, class_index)
    return DiagnosisResponse(
        **outcome.response.model_dump(),
        heatmap_png_base64=base64.b64encode(png).decode("ascii"),
        explained_label=top_label,
    )
