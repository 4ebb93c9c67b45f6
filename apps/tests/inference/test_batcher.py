"""The dynamic batcher: real batching under concurrency, no timer for a lone request, load
shedding, drain, and a failing forward that fails only its own batch."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from prometheus_client import REGISTRY

from florai.contract import TASK_IDENTIFY
from florai.inference.batcher import Batcher, BatcherClosedError, InferenceError, QueueFullError
from florai.inference.images import CorruptImageError
from florai.inference.worker import BatchOutcome
from florai.models.loader import load_model
from florai.models.manifest import IMAGENET_MEAN, IMAGENET_STD, ModelManifest

SHAPE = (3, 8, 8)
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
        input_size=SHAPE[1:],
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )


@dataclass
class RecordingModel:
    """A two-class model whose forward can be held, made to fail, and whose calls are recorded.

    The probability of class 1 is the image's first pixel, so each row can be traced to its image.
    """

    manifest: ModelManifest
    gate: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    batch_sizes: list[int] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gate.set()

    def predict(self, batch: torch.Tensor) -> torch.Tensor:
        self.started_at.append(time.perf_counter())
        self.entered.set()
        assert self.gate.wait(TIMEOUT_S)
        self.batch_sizes.append(batch.shape[0])
        first = batch[:, 0, 0, 0]
        if torch.isnan(first).any():
            raise RuntimeError("poisoned batch")
        return torch.stack([1 - first, first], dim=1)


def image(value: float) -> torch.Tensor:
    return torch.full(SHAPE, value)


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, TIMEOUT_S)


def sample(metric: str, model: str) -> float:
    return REGISTRY.get_sample_value(metric, {"model": model}) or 0.0


def test_concurrent_requests_are_batched_and_each_gets_its_own_row() -> None:
    model = RecordingModel(manifest("batching"))

    async def scenario() -> list[torch.Tensor]:
        batcher = Batcher(model, max_batch_size=8, max_queue=64)
        await batcher.start()
        model.gate.clear()
        first = asyncio.ensure_future(batcher.submit(image(0.0)))
        await wait_for(model.entered)  # the first forward is running: the next 20 pile up
        rest = [asyncio.ensure_future(batcher.submit(image(i / 100))) for i in range(1, 21)]
        await asyncio.sleep(0)
        assert batcher.queue_depth == 20
        model.gate.set()
        results = await asyncio.wait_for(asyncio.gather(first, *rest), TIMEOUT_S)
        assert await batcher.drain(TIMEOUT_S)
        return results

    results = asyncio.run(scenario())
    assert model.batch_sizes == [1, 8, 8, 4]
    for i, row in enumerate(results):
        assert row.shape == (2,)
        assert row[1].item() == pytest.approx(i / 100)
    assert sample("florai_inference_batch_size_count", "batching") == 4
    assert sample("florai_inference_batch_size_sum", "batching") == 21
    assert sample("florai_prediction_confidence_count", "batching") == 21
    assert sample("florai_inference_queue_wait_seconds_count", "batching") == 21
    assert sample("florai_inference_queue_capacity", "batching") == 64


def test_real_model_batches_under_concurrency(reference_models: dict[str, Path]) -> None:
    model = load_model(str(reference_models[TASK_IDENTIFY]), device="cpu")
    images = torch.randn(24, 3, *model.manifest.input_size, generator=torch.Generator().manual_seed(0))
    expected = model.predict(images)

    async def scenario() -> list[torch.Tensor]:
        batcher = Batcher(model, max_batch_size=16, max_queue=64)
        await batcher.start()
        results = await asyncio.gather(*(batcher.submit(img) for img in images))
        await batcher.drain(TIMEOUT_S)
        return results

    name = model.manifest.name
    batches_before = sample("florai_inference_batch_size_count", name)
    results = asyncio.run(scenario())
    batches = sample("florai_inference_batch_size_count", name) - batches_before
    assert 1 <= batches < 24  # fewer forward passes than requests: batching happened
    assert torch.allclose(torch.stack(results), expected, atol=1e-4)


def test_a_lone_request_starts_at_once() -> None:
    model = RecordingModel(manifest("lone"))

    async def scenario() -> list[float]:
        batcher = Batcher(model, max_batch_size=16, max_queue=16)
        await batcher.start()
        delays = []
        for _ in range(15):
            submitted = time.perf_counter()
            await batcher.submit(image(0.5))
            delays.append(model.started_at[-1] - submitted)
        await batcher.drain(TIMEOUT_S)
        return delays

    delays = asyncio.run(scenario())
    # No batching timer: the forward starts as soon as the thread hand-off allows (well under 5 ms).
    assert statistics.median(delays) < 0.005
    assert model.batch_sizes == [1] * 15


def test_full_queue_sheds_load_and_recovers() -> None:
    model = RecordingModel(manifest("shedding"))

    async def scenario() -> None:
        batcher = Batcher(model, max_batch_size=4, max_queue=3)
        await batcher.start()
        model.gate.clear()
        running = asyncio.ensure_future(batcher.submit(image(0.1)))
        await wait_for(model.entered)
        queued = [asyncio.ensure_future(batcher.submit(image(0.2))) for _ in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFullError, match="full"):
            await batcher.submit(image(0.3))
        model.gate.set()
        await asyncio.wait_for(asyncio.gather(running, *queued), TIMEOUT_S)
        assert (await batcher.submit(image(0.4)))[1].item() == pytest.approx(0.4)
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_drain_finishes_queued_work_and_refuses_new_work() -> None:
    model = RecordingModel(manifest("draining"))

    async def scenario() -> None:
        batcher = Batcher(model, max_batch_size=2, max_queue=16)
        await batcher.start()
        model.gate.clear()
        pending = [asyncio.ensure_future(batcher.submit(image(i / 10))) for i in range(5)]
        await wait_for(model.entered)
        drain = asyncio.ensure_future(batcher.drain(TIMEOUT_S))
        await asyncio.sleep(0)
        with pytest.raises(BatcherClosedError):
            await batcher.submit(image(0.9))
        model.gate.set()
        assert await drain is True
        results = await asyncio.gather(*pending)
        assert [round(r[1].item(), 3) for r in results] == [0.0, 0.1, 0.2, 0.3, 0.4]
        assert not batcher.running

    asyncio.run(scenario())
    assert model.batch_sizes == [2, 2, 1]


def test_drain_timeout_fails_what_is_left() -> None:
    model = RecordingModel(manifest("drain-timeout"))

    async def scenario() -> None:
        batcher = Batcher(model, max_batch_size=1, max_queue=16)
        await batcher.start()
        model.gate.clear()
        stuck = asyncio.ensure_future(batcher.submit(image(0.1)))
        await wait_for(model.entered)
        waiting = asyncio.ensure_future(batcher.submit(image(0.2)))
        await asyncio.sleep(0)
        assert await batcher.drain(0.2) is False
        with pytest.raises(BatcherClosedError):
            await waiting
        # The forward still held in its thread is abandoned: its caller is told, not left hanging.
        with pytest.raises(BatcherClosedError):
            await asyncio.wait_for(stuck, TIMEOUT_S)
        model.gate.set()

    asyncio.run(scenario())


def test_a_failing_forward_fails_only_its_batch() -> None:
    model = RecordingModel(manifest("failing"))

    async def scenario() -> None:
        batcher = Batcher(model, max_batch_size=8, max_queue=16)
        await batcher.start()
        model.gate.clear()
        first = asyncio.ensure_future(batcher.submit(image(0.1)))
        await wait_for(model.entered)
        poisoned = [asyncio.ensure_future(batcher.submit(image(v))) for v in (0.2, float("nan"))]
        await asyncio.sleep(0)
        model.gate.set()
        assert (await first)[1].item() == pytest.approx(0.1)
        for future in poisoned:
            with pytest.raises(InferenceError, match="poisoned batch"):
                await future
        # The worker survived: the next request is served.
        assert (await batcher.submit(image(0.7)))[1].item() == pytest.approx(0.7)
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_wrong_tensor_shape_is_refused_before_queueing() -> None:
    async def scenario() -> None:
        batcher = Batcher(RecordingModel(manifest("shape")), max_batch_size=4, max_queue=4)
        await batcher.start()
        with pytest.raises(ValueError, match="expected an image tensor of shape"):
            await batcher.submit(torch.zeros(3, 4, 4))
        assert batcher.queue_depth == 0
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_submit_before_start_is_refused() -> None:
    async def scenario() -> None:
        with pytest.raises(BatcherClosedError):
            await Batcher(RecordingModel(manifest("unstarted")), 4, 4).submit(image(0.1))

    asyncio.run(scenario())


@dataclass
class DecodingWorker:
    """A worker that decodes uploads itself (as InferenceWorker does): b"bad..." fails to decode;
    otherwise the first byte / 255 is the probability of class 1."""

    manifest: ModelManifest
    decodes_uploads: bool = True
    batches: list[int] = field(default_factory=list)

    async def run_batch(self, uploads: list[bytes]) -> BatchOutcome:
        self.batches.append(len(uploads))
        await asyncio.sleep(0.01)
        results: list = []
        for data in uploads:
            if data.startswith(b"bad"):
                results.append(CorruptImageError(f"cannot decode {data!r}"))
            else:
                p = data[0] / 255
                results.append(torch.tensor([1 - p, p]))
        return BatchOutcome(results, [0.001] * len(uploads), 0.005)


def test_a_decoding_worker_gets_bytes_and_fails_only_the_bad_image() -> None:
    async def scenario() -> None:
        worker = DecodingWorker(manifest("decoding"))
        batcher = Batcher(worker, max_batch_size=8, max_queue=16)
        await batcher.start()
        with pytest.raises(TypeError, match="takes the upload's bytes"):
            await batcher.submit(image(0.5))
        uploads = [bytes([n * 20]) for n in range(6)] + [b"bad one"]
        outcomes = await asyncio.gather(*(batcher.submit(u) for u in uploads), return_exceptions=True)
        assert isinstance(outcomes[-1], CorruptImageError) and "bad one" in str(outcomes[-1])
        for data, row in zip(uploads[:-1], outcomes[:-1], strict=True):
            assert float(row[1]) == pytest.approx(data[0] / 255)
        assert sum(worker.batches) == len(uploads) and len(worker.batches) < len(uploads)
        assert await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


def test_an_in_process_model_refuses_bytes() -> None:
    async def scenario() -> None:
        batcher = Batcher(RecordingModel(manifest("tensors")), max_batch_size=4, max_queue=4)
        await batcher.start()
        with pytest.raises(TypeError, match="takes a preprocessed tensor"):
            await batcher.submit(b"\xff\xd8\xff")
        await batcher.drain(TIMEOUT_S)

    asyncio.run(scenario())


@dataclass
class LaneWorker(DecodingWorker):
    """A decoding worker with two lanes (as a WorkerPool of two processes): records how many
    batches were in flight at once."""

    lanes: int = 2
    in_flight: int = 0
    most_in_flight: int = 0

    async def run_batch(self, uploads: list[bytes]) -> BatchOutcome:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            return await super().run_batch(uploads)
        finally:
            self.in_flight -= 1


def test_a_model_with_two_lanes_runs_two_batches_at_once_and_drains_both() -> None:
    async def scenario() -> None:
        worker = LaneWorker(manifest("lanes"))
        batcher = Batcher(worker, max_batch_size=4, max_queue=64)
        await batcher.start()
        assert batcher.lanes == 2
        lone = await batcher.submit(bytes([51]))  # a lone request still runs at once, on one lane
        assert float(lone[1]) == pytest.approx(0.2) and worker.batches == [1]
        uploads = [bytes([n]) for n in range(20)]
        rows = await asyncio.gather(*(batcher.submit(u) for u in uploads))
        assert [float(r[1]) for r in rows] == pytest.approx([n / 255 for n in range(20)])
        assert worker.most_in_flight == 2 and max(worker.batches) <= 4
        pending = [asyncio.ensure_future(batcher.submit(bytes([n]))) for n in range(10)]
        await asyncio.sleep(0)
        assert await batcher.drain(TIMEOUT_S)  # both lanes finish what was queued
        assert all(p.done() and not p.exception() for p in pending) and not batcher.running

    asyncio.run(scenario())


def test_an_in_process_model_has_one_lane_whatever_it_says() -> None:
    model = RecordingModel(manifest("one-lane"))
    model.lanes = 4  # type: ignore[attr-defined]
    assert Batcher(model, max_batch_size=4, max_queue=4).lanes == 1


@dataclass
class PipelinedWorker(LaneWorker):
    """One primary lane and one that may queue a full batch behind it (a pool of one process)."""

    lanes: int = 2
    primary_lanes: int = 1


def test_a_pipelined_lane_takes_only_full_batches() -> None:
    async def scenario() -> None:
        worker = PipelinedWorker(manifest("pipelined"))
        batcher = Batcher(worker, max_batch_size=4, max_queue=64)
        await batcher.start()
        assert (batcher.lanes, batcher.primary_lanes) == (2, 1)
        # Light load: three requests never fill a batch, so they run one batch at a time.
        for _ in range(3):
            rows = await asyncio.gather(*(batcher.submit(bytes([n])) for n in range(3)))
            assert [float(r[1]) for r in rows] == pytest.approx([n / 255 for n in range(3)])
        assert worker.most_in_flight == 1
        # Heavy load: while one batch runs, a full one waits behind it (the second lane).
        worker.batches.clear()
        uploads = [bytes([n]) for n in range(17)]
        rows = await asyncio.gather(*(batcher.submit(u) for u in uploads))
        assert [float(r[1]) for r in rows] == pytest.approx([n / 255 for n in range(17)])
        assert worker.most_in_flight == 2 and sum(worker.batches) == 17 and max(worker.batches) == 4
        # Draining: the primary lane finishes what is queued; the other stops waiting.
        pending = [asyncio.ensure_future(batcher.submit(bytes([n]))) for n in range(2)]
        await asyncio.sleep(0)
        assert await batcher.drain(TIMEOUT_S)
        assert all(p.done() and not p.exception() for p in pending) and not batcher.running

    asyncio.run(scenario())
