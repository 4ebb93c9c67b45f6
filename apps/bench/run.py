"""``make bench``: inference throughput and latency, measured in one run on this machine.

(a) limit: decode + preprocess + forward in a tight loop, in process, at batch sizes 1-32 (best kept);
(b) service: the real ``python -m florai`` over loopback HTTP with unique 640x480 JPEGs (no cache
    hits) at concurrency 1, 8 and 32; the client shares the machine's CPUs with the server;
(c) naive: in process, one image at a time: decode + preprocess + forward(batch=1), no batching,
    no HTTP (what a minimal synchronous single-image handler would do at best).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

# Run as a script (apps/bench/run.py): make the ``bench`` package importable from apps/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.limit import Throughput, decode_preprocess_forward, measure_limit, measure_naive  # noqa: E402
from bench.photos import photo_set  # noqa: E402
from bench.service import LoadResult, drive, running_service  # noqa: E402
from florai.contract import TASK_IDENTIFY  # noqa: E402
from florai.inference.runtime import configure_torch  # noqa: E402
from florai.models.loader import load_model  # noqa: E402

CONCURRENCY = (1, 8, 32)
PHOTOS = 8
# Targets from the issue: service at concurrency 32 vs the limit, and latency added at concurrency 1.
TARGET_SERVICE_OVER_LIMIT = 0.85
TARGET_ADDED_LATENCY_MS = 5.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="reference models folder (make models)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per service run")
    parser.add_argument("--limit-seconds", type=float, default=3.0, help="seconds per batch size for (a)")
    parser.add_argument("--max-requests", type=int, default=5000, help="request cap per service run")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds before each service run"
    )
    return parser.parse_args(argv)


def service_row(result: LoadResult) -> dict:
    return {
        "concurrency": result.concurrency,
        "images_per_s": round(result.images_per_s, 1),
        "completed": result.completed,
        "errors": result.errors,
        "p50_ms": round(result.percentile_ms(50), 2),
        "p95_ms": round(result.percentile_ms(95), 2),
        "p99_ms": round(result.percentile_ms(99), 2),
    }


def limit_row(t: Throughput) -> dict:
    return {
        "batch_size": t.batch_size,
        "images_per_s": round(t.images_per_s, 1),
        "ms_per_image": round(1000 * t.seconds_per_image, 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = configure_torch()
    model_dir = args.models / TASK_IDENTIFY
    model = load_model(str(model_dir), device="cpu")
    photos = photo_set(PHOTOS)
    print(
        f"model {model.manifest.name} {model.manifest.version}, input {model.manifest.input_size}, "
        f"{threads} torch threads, {len(photos)} photos 640x480 JPEG",
        flush=True,
    )
    load_before = os.getloadavg()[0]

    print("(a) limit: decode + preprocess + forward, in process ...", flush=True)
    limits = measure_limit(model, photos, args.limit_seconds)
    best = max(limits, key=lambda t: t.images_per_s)
    print("(c) naive: one image at a time, forward(batch=1), in process ...", flush=True)
    naive = measure_naive(model, photos, args.limit_seconds)

    services: list[LoadResult] = []
    print(f"(b) service: python -m florai, max batch {best.batch_size}, over loopback HTTP ...", flush=True)
    with running_service(args.models, max_batch_size=best.batch_size) as base:
        for concurrency in CONCURRENCY:
            result = asyncio.run(
                drive(base, photos, concurrency, args.seconds, args.max_requests, args.warmup)
            )
            services.append(result)
            print(f"    concurrency {concurrency}: {result.images_per_s:.1f} images/s", flush=True)
    # The machine may be shared: measure the limit again after the service and compare with the mean.
    print(f"(a) limit again at batch {best.batch_size}, after the service ...", flush=True)
    best_after = decode_preprocess_forward(model, photos, best.batch_size, args.limit_seconds)
    limit_images_per_s = (best.images_per_s + best_after.images_per_s) / 2

    single_image_ms = 1000 * limits[0].seconds_per_image
    by_concurrency = {s.concurrency: s for s in services}
    top = by_concurrency[max(CONCURRENCY)]
    results = {
        "model": {"name": model_dir.name, "input_size": list(model.manifest.input_size), "threads": threads},
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "limit": {
            "best_batch_size": best.batch_size,
            "best_images_per_s": round(best.images_per_s, 1),
            "best_images_per_s_after_service": round(best_after.images_per_s, 1),
            "images_per_s_for_ratio": round(limit_images_per_s, 1),
            "by_batch_size": [limit_row(t) for t in limits],
        },
        "naive": {
            "images_per_s": round(naive.images_per_s, 1),
            "ms_per_image": round(1000 * naive.seconds_per_image, 2),
        },
        "service": [service_row(s) for s in services],
        "ratios": {
            "service_over_limit_at_max_concurrency": round(top.images_per_s / limit_images_per_s, 3),
            "service_over_naive_at_max_concurrency": round(top.images_per_s / naive.images_per_s, 3),
        },
        "added_latency_ms_at_concurrency_1": round(by_concurrency[1].percentile_ms(50) - single_image_ms, 2),
        "targets": {
            "service_over_limit": TARGET_SERVICE_OVER_LIMIT,
            "added_latency_ms": TARGET_ADDED_LATENCY_MS,
        },
    }
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0 if all(s.errors == 0 for s in services) else 1


def print_report(r: dict) -> None:
    print()
    print(f"{'measurement':<34}{'images/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for row in r["limit"]["by_batch_size"]:
        mark = " (best)" if row["batch_size"] == r["limit"]["best_batch_size"] else ""
        print(
            f"{'(a) limit, batch ' + str(row['batch_size']) + mark:<34}{row['images_per_s']:>10.1f}"
            f"{row['ms_per_image']:>9.2f}{'':>9}{'':>9}"
        )
    for row in r["service"]:
        label = f"(b) service, concurrency {row['concurrency']}"
        errors = f"  ({row['errors']} errors)" if row["errors"] else ""
        print(
            f"{label:<34}{row['images_per_s']:>10.1f}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}"
            f"{row['p99_ms']:>9.2f}{errors}"
        )
    naive = r["naive"]
    print(
        f"{'(c) naive, one image per forward':<34}{naive['images_per_s']:>10.1f}{naive['ms_per_image']:>9.2f}"
    )
    ratios = r["ratios"]
    top = CONCURRENCY[-1]
    print()
    print(
        f"load average (1 min) before/after: {r['load_average_1m']['before']}/{r['load_average_1m']['after']}"
    )
    print(
        f"service / limit at concurrency {top}: {ratios['service_over_limit_at_max_concurrency']:.3f}"
        f"  (target >= {TARGET_SERVICE_OVER_LIMIT})"
    )
    print(
        f"service / naive at concurrency {top}: {ratios['service_over_naive_at_max_concurrency']:.3f}"
        "  (target > 1)"
    )
    print(
        f"added latency at concurrency 1 (service p50 - limit single image): "
        f"{r['added_latency_ms_at_concurrency_1']:.2f} ms  (target < {TARGET_ADDED_LATENCY_MS} ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
