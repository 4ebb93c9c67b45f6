"""(e) explain: ``POST /diagnose?explain=true`` (top-k plus the Grad-CAM overlay PNG) on the real
service over loopback HTTP, unique JPEGs, at one concurrency; its throughput and latency.

    python apps/bench/explain.py --models .data/models   (this part alone)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.photos import photo_set  # noqa: E402
from bench.service import LoadResult, drive, running_service  # noqa: E402
from florai.contract import API_PREFIX, TASK_DIAGNOSE  # noqa: E402

EXPLAIN_PATH = f"{API_PREFIX}/diagnose?explain=true"
PLAIN_PATH = f"{API_PREFIX}/diagnose"
EXPLAIN_CONCURRENCY = 8


def measure_explain(
    models: Path,
    photos: list[bytes],
    max_batch_size: int,
    seconds: float,
    rounds: int,
    concurrency: int = EXPLAIN_CONCURRENCY,
) -> dict:
    """Pooled throughput and percentiles of explain requests over ``rounds`` rounds, each followed by
    a round of plain /diagnose on the same server: explain / plain is the cost of the overlay
    measured seconds apart (the machine's speed drifts)."""
    explained: list[LoadResult] = []
    plain: list[LoadResult] = []
    with running_service(models, max_batch_size, services=TASK_DIAGNOSE) as service:
        for i in range(rounds):
            warmup = 2.0 if i == 0 else 0.5
            explained.append(
                asyncio.run(drive(service, photos, concurrency, seconds, 5000, warmup, EXPLAIN_PATH))
            )
            plain.append(asyncio.run(drive(service, photos, concurrency, seconds, 5000, 0.5, PLAIN_PATH)))
    pooled = LoadResult.pooled(explained)
    ratios = [e.images_per_s / p.images_per_s for e, p in zip(explained, plain, strict=True)]
    return {
        "concurrency": concurrency,
        "images_per_s": round(pooled.images_per_s, 1),
        "images_per_s_by_round": [round(r.images_per_s, 1) for r in explained],
        "plain_images_per_s": round(LoadResult.pooled(plain).images_per_s, 1),
        "over_plain": round(statistics.median(ratios), 3),
        "p50_ms": round(pooled.percentile_ms(50), 2),
        "p99_ms": round(pooled.percentile_ms(99), 2),
        "completed": pooled.completed,
        "errors": pooled.errors + LoadResult.pooled(plain).errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-batch-size", type=int, default=16)
    args = parser.parse_args()
    result = measure_explain(args.models, photo_set(8), args.max_batch_size, args.seconds, args.rounds)
    print(json.dumps(result, indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
