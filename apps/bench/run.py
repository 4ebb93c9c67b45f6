"""``make bench``: inference throughput and latency, measured in one run on this machine.

(a) limit: decode + preprocess + forward in a tight loop at batch sizes 1-32, in two layouts: one
    loop with every CPU's intra-op thread, and one single-threaded loop per CPU in its own process
    (run at once); the best layout and batch size is the limit. The single-image time (the
    latency reference) is the better of batch 1 on one thread and on all of them;
(b) service: the real ``python -m florai`` over loopback HTTP with unique 640x480 JPEGs (no cache
    hits) at concurrency 1, 8 and 32; the client shares the machine's CPUs with the server;
(c) naive: in process, one image at a time: decode + preprocess + forward(batch=1), no batching,
    no HTTP, at the better thread count (what a minimal synchronous single-image handler would do
    at best);
(d) floor: the service's serving parts alone (uvicorn, the batcher, the worker pool; no app:
    bench.floor), driven like (b) in rounds alternating with the service's: the most a server on
    these parts reaches on this machine. service / floor is what the app's own work costs;
(e) explain: /diagnose?explain=true (top-k and the Grad-CAM overlay) at concurrency 8 (bench.explain);
(f) LitServe: the same model artifact, decode and preprocessing behind LitServe as its documentation
    and its own CPU benchmark set it up (bench.litserve_peer), driven like (b) in the same rounds:
    service / LitServe at concurrency 1, 8 and 32, and both p50 and p99.
The servers of (b), (d) and (f) run side by side, but only the one being measured runs: the others
are stopped (SIGSTOP to their process groups), since an idle LitServe polls its queues on every CPU.

The machine may be shared and its speed drifts (a VM's neighbours), so each concurrency runs in
ROUNDS short rounds, each bracketed by short runs of its in-process reference (the limit at its best
batch size; the single-image time for the latency comparison). Every round gives a ratio (or an
added latency) against the reference measured around it; the report gives their median.
Throughput and percentiles pool every round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import sys
from pathlib import Path

import torch

# Run as a script (apps/bench/run.py): make the ``bench`` package importable from apps/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.explain import measure_explain  # noqa: E402
from bench.limit import (  # noqa: E402
    BATCH_SIZES,
    ParallelLoops,
    Throughput,
    decode_preprocess_forward,
    single_threaded,
)
from bench.photos import photo_set  # noqa: E402
from bench.service import FLOOR, LITSERVE, SERVICE, LoadResult, drive, running_service  # noqa: E402
from florai.contract import TASK_IDENTIFY  # noqa: E402
from florai.inference.runtime import available_cpus  # noqa: E402
from florai.models.loader import load_model  # noqa: E402

CONCURRENCY = (1, 8, 32)
PHOTOS = 8
ROUNDS = 4
# Targets from the issues: service at concurrency 32 vs the limit, latency added at concurrency 1, the
# service against LitServe at 8 and 32, and its p99 at concurrency 1 against its own p50.
TARGET_SERVICE_OVER_LIMIT = 0.85
TARGET_ADDED_LATENCY_MS = 5.0
TARGET_SERVICE_OVER_LITSERVE = 1.3
TARGET_P99_OVER_P50 = 3.0
PEERS = (SERVICE, FLOOR, LITSERVE)
EXPLAIN_ROUNDS = 3
# Load average per CPU, before the bench starts, above which the machine counts as busy with others.
BUSY_LOAD_PER_CPU = 0.25
# Later rounds find the service warm; this much lets the clients reach their concurrency.
ROUND_WARMUP_S = 0.5
ONE_THREAD = "1 loop x 1 thread"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="reference models folder (make models)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per service round")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per concurrency")
    parser.add_argument(
        "--limit-seconds", type=float, default=1.5, help="seconds per in-process reference run"
    )
    parser.add_argument("--max-requests", type=int, default=5000, help="request cap per service run")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds before a concurrency's first round"
    )
    parser.add_argument("--service-torch-threads", type=int, help="FLORAI_TORCH_THREADS for the service")
    return parser.parse_args(argv)


def rate(runs: list[Throughput]) -> float:
    return sum(t.images for t in runs) / sum(t.seconds for t in runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model_dir = args.models / TASK_IDENTIFY
    model = load_model(str(model_dir), device="cpu")
    photos = photo_set(PHOTOS)
    manifest = model.manifest
    print(
        f"model {manifest.name} {manifest.version}, input {manifest.input_size}, {len(photos)} photos",
        flush=True,
    )
    load_before = os.getloadavg()[0]

    cpus = available_cpus()
    loops = ParallelLoops(str(model_dir), photos, cpus) if cpus > 1 else None
    try:
        rows, floor_rows, litserve_rows, limit, sweep, single, naive = measure(args, model, photos, loops)
    finally:
        if loops is not None:
            loops.close()
    print("(e) explain: /diagnose?explain=true at concurrency 8 ...", flush=True)
    explain = measure_explain(args.models, photos, limit.batch_size, args.seconds, EXPLAIN_ROUNDS)

    single_image_ms = 1000 / rate(single.runs)
    top = rows[-1]
    results = {
        "model": {
            "name": manifest.name,
            "version": manifest.version,
            "input_size": list(manifest.input_size),
        },
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "limit": {
            "best_batch_size": limit.batch_size,
            "best_layout": limit.layout,
            "images_per_s": round(rate(limit.runs), 1),
            "single_image_ms": round(single_image_ms, 2),
            "single_image_layout": single.layout,
            "sweep": [
                {
                    "batch_size": t.batch_size,
                    "layout": t.layout,
                    "images_per_s": round(t.images_per_s, 1),
                    "cpu_ms_per_image": round(t.cpu_ms_per_image, 2),
                }
                for t in sweep
            ],
        },
        "naive": {
            "images_per_s": round(naive.images_per_s, 1),
            "cpu_ms_per_image": round(naive.cpu_ms_per_image, 2),
        },
        "service": rows,
        "floor": floor_rows,
        "litserve": litserve_rows,
        "service_over_litserve": {str(r["concurrency"]): r["over_litserve"] for r in rows},
        "explain": explain,
        "service_over_limit_at_32": top["over_reference"],
        "floor_over_limit_at_32": floor_rows[-1]["over_reference"],
        "service_over_floor_at_32": round(top["images_per_s"] / floor_rows[-1]["images_per_s"], 3),
        "floor_added_latency_ms_at_1": floor_rows[0]["added_ms"],
        "service_over_naive_at_32": round(top["images_per_s"] / naive.images_per_s, 3),
        "added_latency_ms_at_1": rows[0]["added_ms"],
        "targets": {
            "service_over_limit": TARGET_SERVICE_OVER_LIMIT,
            "added_latency_ms": TARGET_ADDED_LATENCY_MS,
            "service_over_litserve_at_8_and_32": TARGET_SERVICE_OVER_LITSERVE,
            "p99_over_p50_at_1": TARGET_P99_OVER_P50,
        },
    }
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0 if all(row["errors"] == 0 for row in rows + floor_rows + litserve_rows) else 1


class Reference:
    """One in-process configuration (layout, batch size) and the runs of it measured so far."""

    def __init__(self, name: str, batch_size: int, measure_once) -> None:  # noqa: ANN001
        self.layout, self.batch_size, self._measure = name, batch_size, measure_once
        self.runs: list[Throughput] = []

    def measure(self) -> Throughput:
        run = self._measure()
        self.runs.append(run)
        return run


def measure(args: argparse.Namespace, model, photos: list[bytes], loops: ParallelLoops | None):  # noqa: ANN001, ANN201
    """(a) the sweep, (b) the service and (d) floor rounds bracketed by their references, (c) naive."""
    threads = torch.get_num_threads()
    one_loop = f"1 loop x {threads} threads"

    def in_process(batch_size: int, layout: str = one_loop) -> Throughput:
        with single_threaded() if layout == ONE_THREAD else contextlib.nullcontext():
            run = decode_preprocess_forward(model, photos, batch_size, args.limit_seconds)
        return dataclasses.replace(run, layout=layout)

    def parallel(batch_size: int) -> Throughput:
        return loops.run(batch_size, args.limit_seconds)

    print("(a) limit: decode + preprocess + forward, by layout and batch size ...", flush=True)
    sweep = [in_process(size) for size in BATCH_SIZES]
    if loops is not None:
        sweep += [parallel(size) for size in BATCH_SIZES]
    best = max(sweep, key=lambda t: t.images_per_s)
    if best.layout == one_loop:
        limit = Reference(best.layout, best.batch_size, lambda: in_process(best.batch_size))
    else:
        limit = Reference(best.layout, best.batch_size, lambda: parallel(best.batch_size))
    limit.runs.append(best)
    lone = [sweep[0]]
    if threads > 1:
        lone.append(in_process(1, ONE_THREAD))
    fastest = max(lone, key=lambda t: t.images_per_s)
    single = Reference(fastest.layout, 1, lambda: in_process(1, fastest.layout))
    single.runs.append(fastest)

    rows, floor_rows, litserve_rows = [], [], []
    print(
        f"(b) service, (d) its floor and (f) LitServe, max batch {limit.batch_size}, over loopback HTTP ...",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        servers = {
            peer.name: stack.enter_context(
                running_service(args.models, limit.batch_size, args.service_torch_threads, peer=peer)
            )
            for peer in PEERS
        }
        for server in servers.values():
            server.pause()  # each one runs only while it is measured
        for concurrency in CONCURRENCY:
            reference = single if concurrency == 1 else limit
            around = [reference.measure()]
            rounds: dict[str, list[LoadResult]] = {name: [] for name in servers}
            for index in range(args.rounds):
                warmup = args.warmup if index == 0 else ROUND_WARMUP_S
                # Rotate who goes first, so none always follows the in-process reference.
                names = list(servers)
                for name in names[index % len(names) :] + names[: index % len(names)]:
                    servers[name].resume()
                    load = drive(servers[name], photos, concurrency, args.seconds, args.max_requests, warmup)
                    rounds[name].append(asyncio.run(load))
                    servers[name].pause()
                around.append(reference.measure())
            rows.append(service_row(concurrency, rounds["service"], around, rounds["litserve"]))
            floor_rows.append(service_row(concurrency, rounds["floor"], around))
            litserve_rows.append(service_row(concurrency, rounds["litserve"], around))
            floor_rate, litserve_rate = floor_rows[-1]["images_per_s"], litserve_rows[-1]["images_per_s"]
            print(
                f"    concurrency {concurrency}: {rows[-1]['images_per_s']:.1f} images/s"
                f" (floor {floor_rate:.1f}, LitServe {litserve_rate:.1f})",
                flush=True,
            )
    print("(c) naive: one image at a time, forward(batch=1), in process ...", flush=True)
    naive = in_process(1, single.layout)
    return rows, floor_rows, litserve_rows, limit, sweep, single, naive


def service_row(
    concurrency: int,
    rounds: list[LoadResult],
    references: list[Throughput],
    peer: list[LoadResult] | None = None,
) -> dict:
    """Pooled throughput and percentiles; per-round comparisons with the references around each
    round, and with a ``peer`` server's rounds (their median is the figure reported)."""
    pooled = LoadResult.pooled(rounds)
    around = [rate(references[i : i + 2]) for i in range(len(rounds))]
    ratios = [r.images_per_s / ref for r, ref in zip(rounds, around, strict=True)]
    added = [r.percentile_ms(50) - 1000 / ref for r, ref in zip(rounds, around, strict=True)]
    return {
        "concurrency": concurrency,
        "rounds": len(rounds),
        "images_per_s": round(pooled.images_per_s, 1),
        "reference_images_per_s": round(rate(references), 1),
        "over_reference": round(statistics.median(ratios), 3),
        "over_reference_by_round": [round(x, 3) for x in ratios],
        "added_ms": round(statistics.median(added), 2),
        "added_ms_by_round": [round(x, 2) for x in added],
        "completed": pooled.completed,
        "errors": pooled.errors,
        "p50_ms": round(pooled.percentile_ms(50), 2),
        "p95_ms": round(pooled.percentile_ms(95), 2),
        "p99_ms": round(pooled.percentile_ms(99), 2),
        "client_cpu_ms_per_request": round(pooled.client_cpu_ms, 2),
        "server_cpu_ms_per_request": round(pooled.server_cpu_ms, 2),
    } | (
        {}
        if peer is None
        else {
            "over_litserve": round(
                statistics.median(r.images_per_s / p.images_per_s for r, p in zip(rounds, peer, strict=True)),
                3,
            ),
            "over_litserve_by_round": [
                round(r.images_per_s / p.images_per_s, 3) for r, p in zip(rounds, peer, strict=True)
            ],
        }
    )


def print_report(r: dict) -> None:
    print()
    print(f"{'measurement':<36}{'images/s':>9}{'cpu ms/img':>11}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for row in r["limit"]["sweep"]:
        limit = r["limit"]
        chosen = (row["batch_size"], row["layout"]) == (limit["best_batch_size"], limit["best_layout"])
        best = " (best)" if chosen else ""
        label = f"(a) {row['layout']}, batch {row['batch_size']}{best}"
        print(f"{label:<36}{row['images_per_s']:>9.1f}{row['cpu_ms_per_image']:>11.2f}")
    for part, name in (("(b)", "service"), ("(d)", "floor"), ("(f)", "litserve")):
        for row in r[name]:
            label = f"{part} {name}, concurrency {row['concurrency']}"
            errors = f"  {row['errors']} errors" if row["errors"] else ""
            print(
                f"{label:<36}{row['images_per_s']:>9.1f}"
                f"{row['server_cpu_ms_per_request'] + row['client_cpu_ms_per_request']:>11.2f}"
                f"{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{row['p99_ms']:>9.2f}"
                f"   ({row['over_reference']:.2f} x the in-process runs around it, median of"
                f" {row['rounds']} rounds){errors}"
            )
    naive = r["naive"]
    print(
        f"{'(c) naive, one image per forward':<36}{naive['images_per_s']:>9.1f}"
        f"{naive['cpu_ms_per_image']:>11.2f}"
    )
    print()
    limit = r["limit"]
    load = r["load_average_1m"]
    print(f"load average (1 min) before/after: {load['before']}/{load['after']} on {os.cpu_count()} CPUs")
    if load["before"] > BUSY_LOAD_PER_CPU * (os.cpu_count() or 1):
        print("note: other processes were busy on this machine when the bench started; expect noisy ratios")
    print(
        f"service / limit at concurrency 32: {r['service_over_limit_at_32']:.3f}"
        f"  (limit around it: {limit['images_per_s']} images/s, {limit['best_layout']} at batch"
        f" {limit['best_batch_size']};"
        f" target >= {TARGET_SERVICE_OVER_LIMIT})"
    )
    print(f"service / naive at concurrency 32: {r['service_over_naive_at_32']:.3f}  (target > 1)")
    print(
        f"floor / limit at concurrency 32: {r['floor_over_limit_at_32']:.3f}"
        f"  (the serving parts without the app; service / floor: {r['service_over_floor_at_32']:.3f})"
    )
    print(
        f"added latency at concurrency 1: {r['added_latency_ms_at_1']:.2f} ms  (median over rounds of service"
        f" p50 minus the single-image time around it, {limit['single_image_ms']} ms overall"
        f" ({limit['single_image_layout']});"
        f" target < {TARGET_ADDED_LATENCY_MS} ms)"
    )
    print(f"floor's added latency at concurrency 1: {r['floor_added_latency_ms_at_1']:.2f} ms")
    print_peer_report(r)


def print_peer_report(r: dict) -> None:
    """Service against LitServe, and explain."""
    for ours, theirs in zip(r["service"], r["litserve"], strict=True):
        c = ours["concurrency"]
        print(
            f"service / LitServe at concurrency {c}: {ours['over_litserve']:.3f}"
            f" (median of rounds {ours['over_litserve_by_round']}; p50 {ours['p50_ms']:.1f} vs"
            f" {theirs['p50_ms']:.1f} ms, p99 {ours['p99_ms']:.1f} vs {theirs['p99_ms']:.1f} ms)"
        )
    lone = r["service"][0]
    print(
        f"targets: service / LitServe >= {TARGET_SERVICE_OVER_LITSERVE} at 8 and 32; at concurrency 1 p50 no"
        f" worse than LitServe's ({lone['p50_ms']:.1f} vs {r['litserve'][0]['p50_ms']:.1f} ms) and p99 under"
        f" {TARGET_P99_OVER_P50:g} x p50 ({lone['p99_ms'] / lone['p50_ms']:.2f} x)"
    )
    explain = r["explain"]
    print(
        f"(e) explain=true at concurrency {explain['concurrency']}: {explain['images_per_s']} images/s,"
        f" {explain['over_plain']:.3f} of plain /diagnose measured beside it (p50 {explain['p50_ms']} ms,"
        f" p99 {explain['p99_ms']} ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
