"""The prediction service: an upload's top classes (from the caller's own cache entries, or the task's
engine), the Grad-CAM overlay of the top class, per-item results for a batch, and the charge for the
work a request asks for.

Raises domain errors only (florai.services.errors); florai.api.errors turns them into HTTP answers.
Cached entries hold the top contract.MAX_TOP_K classes, so any k up to that is served from one
entry; each entry belongs to one user, so a cache hit tells nobody what somebody else sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from florai import contract
from florai.cache import prediction_key
from florai.catalogue import Catalogue
from florai.inference import batcher
from florai.inference.execution import Scores
from florai.inference.images import ImageError, UnsupportedImageError, declared_pixels
from florai.metrics import CACHE_HITS, CACHE_MISSES
from florai.models.manifest import ModelManifest
from florai.security import Principal
from florai.services.authentication import RateLimits
from florai.services.errors import (
    InferenceFailedError,
    InvalidImageError,
    ModelUnavailableError,
    QueueFullError,
    ServiceError,
    TooLargeError,
    UnknownTaskError,
    UnsupportedMediaError,
)
from florai.services.offload import off_loop_if_blocking
from florai.services.ports import InferenceEngine, PredictionCache


@dataclass(frozen=True)
class LabelScore:
    id: str
    name: str
    confidence: float


@dataclass(frozen=True)
class Prediction:
    """One image's top classes under one model, and whether they came from the caller's cache."""

    task: str
    model_name: str
    model_version: str
    top: tuple[LabelScore, ...]
    cached: bool
    image_sha256: str


@dataclass(frozen=True)
class Explained:
    """A prediction (at least its top class) and the Grad-CAM overlay PNG of that class."""

    prediction: Prediction
    overlay_png: bytes

    @property
    def explained_label(self) -> str:
        return self.prediction.top[0].id


def label_names(catalogue: Catalogue, task: str) -> dict[str, str]:
    """Display name of every label id of a task, from the catalogue."""
    if task == contract.TASK_IDENTIFY:
        return {k: v.common_name for k, v in catalogue.species.items()}
    if task == contract.TASK_DIAGNOSE:
        return {k: v.name for k, v in catalogue.diseases.items()}
    return {g.id: g.name for g in catalogue.generic_stages}


def image_cost(pixels: int) -> int:
    """Rate-limit tokens for one image: one, and one more per contract.PIXELS_PER_TOKEN beyond the first."""
    return max(1, math.ceil(pixels / contract.PIXELS_PER_TOKEN))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def inference_errors(task: str, retry_after_s: int) -> Iterator[None]:
    """The engine's failures as domain errors: the image's own (415/422) or the engine's (503)."""
    try:
        yield
    except UnsupportedImageError as exc:
        raise UnsupportedMediaError(str(exc)) from None
    except ImageError as exc:  # corrupt, truncated, decompression bomb
        raise InvalidImageError(str(exc)) from None
    except batcher.QueueFullError:
        raise QueueFullError(f"the {task} model is at capacity; retry shortly", retry_after_s) from None
    except batcher.InferenceError as exc:
        # The batch failed inside the model (e.g. a GPU fault): the worker lives on, retrying is sound.
        raise InferenceFailedError(str(exc), retry_after_s) from None


class PredictionService:
    def __init__(
        self,
        tasks: Sequence[str],
        engines: Mapping[str, InferenceEngine],
        names: Mapping[str, Mapping[str, str]],
        cache: PredictionCache,
        limits: RateLimits,
        retry_after_s: int,
    ) -> None:
        self.tasks = tuple(tasks)
        self.engines = engines  # filled by the runtime as models load; a task missing here is unready
        self.names = names
        self.cache = cache
        self.limits = limits
        self.retry_after_s = retry_after_s

    def engine(self, task: str) -> InferenceEngine:
        """The task's engine; ModelUnavailableError when its model did not load on this instance
        (``/readyz`` fails too, so a retry lands on another instance)."""
        if task not in self.tasks:
            raise UnknownTaskError(f"task {task!r} is not served here; choose from {list(self.tasks)}")
        engine = self.engines.get(task)
        if engine is None:
            raise ModelUnavailableError(
                f"the {task} model is not loaded on this instance; retry shortly", self.retry_after_s
            )
        return engine

    async def charge(self, principal: Principal, uploads: Sequence[bytes]) -> None:
        """Take the request's tokens from the caller's bucket: one per image plus one per
        PIXELS_PER_TOKEN beyond the first (pixels as the headers declare them, read without
        decoding); TooLargeError when the request declares more than MAX_REQUEST_PIXELS in all."""
        pixels = [declared_pixels(data) for data in uploads]
        if sum(pixels) > contract.MAX_REQUEST_PIXELS:
            raise TooLargeError(
                f"the images declare {sum(pixels)} pixels in all, more than the limit of"
                f" {contract.MAX_REQUEST_PIXELS} per request"
            )
        await self.limits.charge(principal, sum(image_cost(p) for p in pixels))

    async def predict(self, principal: Principal, task: str, data: bytes, k: int) -> Prediction:
        engine = self.engine(task)
        manifest = engine.manifest
        digest = sha256_hex(data)
        key = prediction_key(manifest.name, manifest.version, digest, principal.user_id)
        cached = await off_loop_if_blocking(self.cache, self.cache.get, key)
        if cached is not None:
            CACHE_HITS.labels(model=manifest.name).inc()
            scores = Scores(tuple(int(i) for i, _ in cached), tuple(float(p) for _, p in cached))
        else:
            CACHE_MISSES.labels(model=manifest.name).inc()
            with inference_errors(task, self.retry_after_s):
                scores = await engine.predict(data)
            await self._remember(key, scores)
        return self._prediction(task, manifest, scores, k, cached is not None, digest)

    async def explain(self, principal: Principal, task: str, data: bytes, k: int) -> Explained:
        """The prediction and the overlay of its top class, from one decode and one forward +
        backward pass where the model lives (never from the cache: the overlay is not kept)."""
        engine = self.engine(task)
        manifest = engine.manifest
        digest = sha256_hex(data)
        CACHE_MISSES.labels(model=manifest.name).inc()
        with inference_errors(task, self.retry_after_s):
            explanation = await engine.explain(data)
        await self._remember(
            prediction_key(manifest.name, manifest.version, digest, principal.user_id), explanation.scores
        )
        prediction = self._prediction(task, manifest, explanation.scores, k, False, digest)
        return Explained(prediction, explanation.overlay_png)

    async def predict_each(
        self, principal: Principal, task: str, uploads: Sequence[bytes], k: int
    ) -> list[Prediction | ServiceError]:
        """``predict`` for every upload at once (the batcher can run them as one forward pass); an
        upload that fails fails alone, as its error."""

        async def one(data: bytes) -> Prediction | ServiceError:
            try:
                return await self.predict(principal, task, data, k)
            except ServiceError as exc:
                return exc

        return list(await asyncio.gather(*(one(data) for data in uploads)))

    async def _remember(self, key: str, scores: Scores) -> None:
        entry = [[i, p] for i, p in zip(scores.indices, scores.probabilities, strict=True)]
        await off_loop_if_blocking(self.cache, self.cache.set, key, entry)

    def _prediction(
        self, task: str, manifest: ModelManifest, scores: Scores, k: int, cached: bool, digest: str
    ) -> Prediction:
        labels, names = manifest.labels, self.names.get(task, {})
        top = tuple(
            LabelScore(labels[i], names.get(labels[i], labels[i]), min(max(p, 0.0), 1.0))
            for i, p in zip(scores.indices[:k], scores.probabilities[:k], strict=True)
        )
        return Prediction(task, manifest.name, manifest.version, top, cached, digest)
