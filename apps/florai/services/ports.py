"""The interfaces the service layer is written against. Each has more than one implementation (in
process or over the network, real or a test's), so the runtime and the services name the interface,
never the class: the prediction cache (florai.cache), the image store (florai.consent), token buckets
(florai.security) and the engines (florai.inference.engine.Engine)."""

from __future__ import annotations

from typing import Protocol

from florai.cache import PredictionCache
from florai.consent import ImageStore
from florai.inference.execution import Explanation, Scores
from florai.models.manifest import ModelManifest
from florai.security import RateLimitDecision

__all__ = ["ImageStore", "InferenceEngine", "PredictionCache", "TokenBuckets"]


class TokenBuckets(Protocol):
    """Per-subject token buckets: in-process, or in Redis with an in-process fallback."""

    def hit(self, key: str, cost: int = 1) -> RateLimitDecision: ...


class InferenceEngine(Protocol):
    """One task's model behind its batcher, wherever it runs."""

    @property
    def manifest(self) -> ModelManifest: ...

    @property
    def device(self) -> str: ...

    async def start(self) -> None: ...

    async def predict(self, data: bytes) -> Scores: ...

    async def explain(self, data: bytes) -> Explanation: ...

    async def drain(self, timeout: float) -> bool: ...
