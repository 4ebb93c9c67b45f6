"""What runs where a model lives (a worker process; the forward thread in thread mode): each upload
is decoded and preprocessed once, the images to score go through one forward pass, the images to
explain through one forward and one backward pass (Grad-CAM) and get their overlay PNG.

Results are small and plain (class indices, probabilities, PNG bytes) so they cross a pipe cheaply
and the server process needs neither torch nor numpy to read them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from florai.contract import MAX_TOP_K
from florai.inference.images import ImageError, decode_for_model, heatmap_overlay_png


@dataclass(frozen=True)
class Job:
    """One upload for the model: its bytes, and whether to explain its top class as well."""

    data: bytes
    explain: bool = False


@dataclass(frozen=True)
class Scores:
    """The top classes of one image (at most contract.MAX_TOP_K): label indices and probabilities,
    best first."""

    indices: tuple[int, ...]
    probabilities: tuple[float, ...]

    @property
    def top(self) -> float:
        return self.probabilities[0]


@dataclass(frozen=True)
class Explanation:
    """Scores plus the Grad-CAM overlay (PNG) of the top class (``scores.indices[0]``)."""

    scores: Scores
    overlay_png: bytes


Result = Scores | Explanation | ImageError


@dataclass(frozen=True)
class BatchOutcome:
    """Per job, in order: its result or the ImageError of an upload that did not decode; and how long
    each step took (seconds)."""

    results: list[Result]
    decode_s: list[float]
    forward_s: float

    @property
    def forwarded(self) -> int:
        return sum(1 for r in self.results if not isinstance(r, Exception))


def _decoded(model: Any, job: Job) -> tuple[Any, Any] | ImageError:
    try:
        return decode_for_model(job.data, model.manifest)
    except ImageError as exc:
        return exc


def _top(probabilities: Any) -> Iterator[Scores]:
    import torch

    values, indices = torch.topk(probabilities, k=min(MAX_TOP_K, probabilities.shape[-1]), dim=1)
    for row_values, row_indices in zip(values.tolist(), indices.tolist(), strict=True):
        yield Scores(tuple(row_indices), tuple(row_values))


def run_jobs(
    model: Any, jobs: list[Job], decode_map: Callable[[Callable, Iterable], Iterable] = map
) -> BatchOutcome:
    """Decode every job's upload (``decode_map`` may spread that over threads), then one forward pass
    for the jobs to score and one forward + backward pass for the jobs to explain."""
    import torch

    def timed(job: Job) -> tuple[tuple[Any, Any] | ImageError, float]:
        started = time.perf_counter()
        return _decoded(model, job), time.perf_counter() - started

    decoded, decode_s = zip(*decode_map(timed, jobs), strict=True) if jobs else ((), ())
    results: list[Result | None] = [d if isinstance(d, ImageError) else None for d in decoded]
    score = [i for i, d in enumerate(decoded) if not isinstance(d, ImageError) and not jobs[i].explain]
    explain = [i for i, d in enumerate(decoded) if not isinstance(d, ImageError) and jobs[i].explain]
    started = time.perf_counter()
    if score:
        probabilities = model.predict(torch.stack([decoded[i][1] for i in score]))
        for i, scores in zip(score, _top(probabilities), strict=True):
            results[i] = scores
    if explain:
        probabilities, _, heatmaps = model.explain_batch(torch.stack([decoded[i][1] for i in explain]))
        for n, (i, scores) in enumerate(zip(explain, _top(probabilities), strict=True)):
            results[i] = Explanation(scores, heatmap_overlay_png(decoded[i][0], heatmaps[n]))
    return BatchOutcome(results, list(decode_s), time.perf_counter() - started)  # type: ignore[arg-type]
