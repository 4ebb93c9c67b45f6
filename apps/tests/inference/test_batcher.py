"""The dynamic batcher: real batching under concurrency, no timer for a lone request, load
shedding, drain, a failing batch that fails only itself, an upload that fails alone, and lanes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from florai.contract import TASK_IDENTIFY
from florai.inference.batcher import Batcher, BatcherClosedError, InferenceError, QueueFullError
from florai.inference.engine import ThreadRunner
from florai.inference.execution import BatchOutcome, Job, Scores, run_jobs
from florai.inference.images import CorruptImageError
from florai.models.loader import load_model
from florai.models.manifest import IMAGENET_MEAN, IMAGENET_STD, ModelManifest

TIMEOUT_S = 10.0


def manifest(name: str) -> ModelManifest:
    return ModelManifest(
        name=name,
        version="1",
        task=TASK_IDENTIFY,
        format="torch.export",
        artifact="model.pt2",
        sha256="0" * 64,
        labels=("a", "b"),
        input_size=(8, 8),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )


def job(value: int) -> Job:
    return Job(bytes([value]))


def probability(result: Scores) -> float:
    """The probability of class 1 (RecordingRunner makes it the upload's first byte / 255)."""
    return dict(zip(result.indices, result.probabilities, strict=True))[1]


@dataclass
class RecordingRunner:
    """A two-class model whose batches can be held, made to fail, and are recorded. The probability of
    class 1 is the upload's first byte / 255, so each result can be traced to its job; an upload
    starting with b"bad" does not decode; one starting with b"nan" poisons its whole batch."""

    manifest: ModelManifest
    lanes: int = 1
    primary_lanes: int = 1
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    batches: list[int] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    def __post_init__(self) -> None:
        self.gate.set()

    async def run_batch(self, jobs: list[Job]) -> BatchOutcome:
        self.entered.set()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.wait_for(self.gate.wait(), TIMEOUT_S)
            await asyncio.sleep(0.01 if self.lanes > 1 else 0)  # lanes: let batches overlap
        finally:
            self.in_flight -= 1
        self.batches.append(len(jobs))
        if any(j.data.startswith(b"nan") for j in jobs):
            raise RuntimeError("poisoned batch")
        results: list = []
        for j in jobs:
            if j.data.startswith(b"bad"):
                results.append(CorruptImageError(f"cannot decode {j.data!r}"))
            else:
                p = j.data[0] / 255
                results.append(Scores((1, 0) if p >= 0.5 else (0, 1), (p, 1 - p) if p >= 0.5 else (1 - p, p)))
        return BatchOutcome(results, [0.001] * len(jobs), 0.005)


def sample(metric: str, model: str) -> float:
    return REGISTRY.get_sample_value(metric, {"model": model}) or 0.0


def test_concurrent_requests_are_batched_and_each_gets_its_own_result() -> None:
    async def scenario() -> tuple[RecordingRunner, list[Scores]]:
        runner = RecordingRunner(manifest("batching"))
        batcher = Batcher(runner, max_batch_size=8, max_queue=64)
        await batcher.start()
        runner.gate.clear()
        first = asyncio.ensure_future(batcher.submit(job(0)))
        await asyncio.wait_for(runner.entered.wait(), TIMEOUT_S)  # the first batch runs: 20 pile up
        rest = [asyncio.ensure_future(batcher.submit(job(i))) for i in range(1, 21)]
        await asyncio.sleep(0)
        assert batcher.queue_depth == 20
        runner.gate.set()
        results = await asyncio.wait_for(asyncio.gather(first, *rest), TIMEOUT_S)
        assert await batcher.drain(TIMEOUT_S)
        return runner, results

    runner, results = asyncio.run(scenario())
    assert runner.batches == [1, 8, 8, 4]
    assert [probability(r) for r in results] == pytest.approx([i / 255 for i in range(21)])
    assert sample("florai_inference_batch_size_count", "batching") == 4
    assert sample("florai_inference_batch_size_sum", "batching") == 21
    assert sample("florai_prediction_confidence_count", "batching") == 21
    assert sample("florai_inference_queue_wait_seconds_count", "batching") == 21
    assert sample("florai_inference_queue_capacity", "batching") == 64


def test_real_model_batches_under_concurrency(reference_models: dict[str, Path]) -> None:
    import io

    import numpy as np
    from PIL import Image

    model = load_model(str(reference_models[TASK_IDENTIFY]), device="cpu")
    rng = np.random.default_rng(0)
    uploads = []
    for _ in range(24):
        out = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(out, "PNG")
        uploads.append(out.getvalue())
    expected = run_jobs(model, [Job(u) for u in uploads]).results

    async def scenario() -> list[Scores]:
        batcher = Batcher(ThreadRunner(model, decode_threads=2), max_batch_size=16, max_queue=64)
        await batcher.start()
        results = await asyncio.gather(*(batcher.submit(Job(u)) for u in uploads))
        await batcher.drain(TIMEOUT_S)
        return results

    name = model.manifest.name
    batches_before = sample("florai_inference_batch_size_count", name)
    results = asyncio.run(scenario())
    batches = sample("florai_inference_batch_size_count", name) - batches_before
    assert 1 <= batches < 24  # fewer forward passes than requests: batching happened
    assert [r.indices for r in results] == [e.indices for e in expected]
    for result, want in zip(results, expected, strict=True):
        assert result.probabilities == pytest.approx(want.probabilities, abs=1e-4)


def test_a_lone_request_starts_without_waiting_for_a_timer() -> None:
    async def scenario() -> RecordingRunner:
        runner = RecordingRunner(manifest("lone"))
        batcher = Batcher(runner, max_batch_size=16, max_queue=16)
        await batcher.start()
        for _ in range(3):
            runner.entered.clear()
            submitted = asyncio.ensure_future(batcher.submit(job(128)))
            for _ in range(3):  # a few turns of the event loop, no time passing: no timer could fire
                await asyncio.sleep(0)
            assert runner.entered.is_set()
            await submitted
        await batcher.drain(TIMEOUT_S)
        return runner

    assert asyncio.run(scenario()).batches == [1, 1, 1]


def test_full_queue_sheds_load_and_recovers() -> None:
    async def scenario() -> None:
        runner = RecordingRunner(manifest("shedding"))
        batcher = Batcher(runner, max_batch_size=4, max_queue=3)
        await batcher.start()
        runner.gate.clear()
        running = asyncio.ensure_future(batcher.submit(job(10)))
        await asyncio.wait_for(runner.entered.wait(), TIMEOUT_S)
        queued = [asyncio.ensure_future(batcher.submit(job(20))) for _ in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFullError, match="full"):
            await batcher.submit(job(30))
        runner.gate.set()
        await asyncio.wait_for(asyncio.gather(running, *queued), TIMEOUT_S)
        assert probability(await batcher.submit(job(40))) == pytest.approx(40 / 255)
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_drain_finishes_queued_work_and_refuses_new_work() -> None:
    async def scenario() -> RecordingRunner:
        runner = RecordingRunner(manifest("draining"))
        batcher = Batcher(runner, max_batch_size=2, max_queue=16)
        await batcher.start()
        runner.gate.clear()
        pending = [asyncio.ensure_future(batcher.submit(job(i))) for i in range(5)]
        await asyncio.wait_for(runner.entered.wait(), TIMEOUT_S)
        drain = asyncio.ensure_future(batcher.drain(TIMEOUT_S))
        await asyncio.sleep(0)
        with pytest.raises(BatcherClosedError):
            await batcher.submit(job(9))
        runner.gate.set()
        assert await drain is True
        results = await asyncio.gather(*pending)
        assert [probability(r) for r in results] == pytest.approx([i / 255 for i in range(5)])
        assert not batcher.running
        return runner

    assert asyncio.run(scenario()).batches == [2, 2, 1]


def test_drain_timeout_fails_what_is_left() -> None:
    async def scenario() -> None:
        runner = RecordingRunner(manifest("drain-timeout"))
        batcher = Batcher(runner, max_batch_size=1, max_queue=16)
        await batcher.start()
        runner.gate.clear()
        stuck = asyncio.ensure_future(batcher.submit(job(1)))
        await asyncio.wait_for(runner.entered.wait(), TIMEOUT_S)
        waiting = asyncio.ensure_future(batcher.submit(job(2)))
        await asyncio.sleep(0)
        assert await batcher.drain(0.2) is False
        with pytest.raises(BatcherClosedError):
            await waiting
        # The batch still held by the runner is abandoned: its caller is told, not left hanging.
        with pytest.raises(BatcherClosedError):
            await asyncio.wait_for(stuck, TIMEOUT_S)

    asyncio.run(scenario())


def test_a_failing_batch_fails_only_itself() -> None:
    async def scenario() -> None:
        runner = RecordingRunner(manifest("failing"))
        batcher = Batcher(runner, max_batch_size=8, max_queue=16)
        await batcher.start()
        runner.gate.clear()
        first = asyncio.ensure_future(batcher.submit(job(10)))
        await asyncio.wait_for(runner.entered.wait(), TIMEOUT_S)
        poisoned = [asyncio.ensure_future(batcher.submit(j)) for j in (job(20), Job(b"nan"))]
        await asyncio.sleep(0)
        runner.gate.set()
        assert probability(await first) == pytest.approx(10 / 255)
        for future in poisoned:
            with pytest.raises(InferenceError, match="poisoned batch"):
                await future
        # The runner survived: the next request is served.
        assert probability(await batcher.submit(job(70))) == pytest.approx(70 / 255)
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_an_upload_that_does_not_decode_fails_alone() -> None:
    async def scenario() -> None:
        runner = RecordingRunner(manifest("decoding"))
        batcher = Batcher(runner, max_batch_size=8, max_queue=16)
        await batcher.start()
        jobs = [job(n * 20) for n in range(6)] + [Job(b"bad one")]
        outcomes = await asyncio.gather(*(batcher.submit(j) for j in jobs), return_exceptions=True)
        assert isinstance(outcomes[-1], CorruptImageError) and "bad one" in str(outcomes[-1])
        assert [probability(r) for r in outcomes[:-1]] == pytest.approx([n * 20 / 255 for n in range(6)])
        assert sum(runner.batches) == len(jobs) and len(runner.batches) < len(jobs)
        assert await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_submit_before_start_is_refused() -> None:
    async def scenario() -> None:
        with pytest.raises(BatcherClosedError):
            await Batcher(RecordingRunner(manifest("unstarted")), 4, 4).submit(job(1))

    asyncio.run(scenario())


def test_a_runner_with_two_lanes_runs_two_batches_at_once_and_drains_both() -> None:
    async def scenario() -> None:
        runner = RecordingRunner(manifest("lanes"), lanes=2, primary_lanes=2)
        batcher = Batcher(runner, max_batch_size=4, max_queue=64)
        await batcher.start()
        assert batcher.lanes == 2
        lone = await batcher.submit(job(51))  # a lone request still runs at once, on one lane
        assert probability(lone) == pytest.approx(0.2) and runner.batches == [1]
        results = await asyncio.gather(*(batcher.submit(job(n)) for n in range(20)))
        assert [probability(r) for r in results] == pytest.approx([n / 255 for n in range(20)])
        assert runner.most_in_flight == 2 and max(runner.batches) <= 4
        pending = [asyncio.ensure_future(batcher.submit(job(n))) for n in range(10)]
        await asyncio.sleep(0)
        assert await batcher.drain(TIMEOUT_S)  # both lanes finish what was queued
        assert all(p.done() and not p.exception() for p in pending) and not batcher.running

    asyncio.run(scenario())


def test_a_pipelined_lane_takes_only_full_batches() -> None:
    async def scenario() -> None:
        # One primary lane and one that may queue a full batch behind it (a pool of one process).
        runner = RecordingRunner(manifest("pipelined"), lanes=2, primary_lanes=1)
        batcher = Batcher(runner, max_batch_size=4, max_queue=64)
        await batcher.start()
        assert (batcher.lanes, batcher.primary_lanes) == (2, 1)
        # Light load: three requests never fill a batch, so they run one batch at a time.
        for _ in range(3):
            results = await asyncio.gather(*(batcher.submit(job(n)) for n in range(3)))
            assert [probability(r) for r in results] == pytest.approx([n / 255 for n in range(3)])
        assert runner.most_in_flight == 1
        # Heavy load: while one batch runs, a full one waits behind it (the second lane).
        runner.batches.clear()
        results = await asyncio.gather(*(batcher.submit(job(n)) for n in range(17)))
        assert [probability(r) for r in results] == pytest.approx([n / 255 for n in range(17)])
        assert runner.most_in_flight == 2 and sum(runner.batches) == 17 and max(runner.batches) == 4
        # Draining: the primary lane finishes what is queued; the other stops waiting.
        pending = [asyncio.ensure_future(batcher.submit(job(n))) for n in range(2)]
        await asyncio.sleep(0)
        assert await batcher.drain(TIMEOUT_S)
        assert all(p.done() and not p.exception() for p in pending) and not batcher.running

    asyncio.run(scenario())
