"""InferenceWorker: decode + preprocess + forward (and Grad-CAM) in a child process, equal to the
in-process path, per-image decode errors, robust to the child dying, failing to start, or being left
behind, and started without the server's secrets."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import uvloop
from PIL import Image

from florai.contract import TASK_IDENTIFY
from florai.inference import worker as worker_module
from florai.inference.execution import BatchOutcome, Explanation, Job, Scores, run_jobs
from florai.inference.images import CorruptImageError, DecompressionBombError, UnsupportedImageError
from florai.inference.runtime import THREADS_ENV
from florai.inference.worker import PIPELINE_DEPTH, InferenceWorker, WorkerError, WorkerPool
from florai.models.loader import LoadedModel, load_model


@pytest.fixture(scope="module")
def model(reference_models: dict[str, Path]) -> LoadedModel:
    return load_model(str(reference_models[TASK_IDENTIFY]), device="cpu")


@pytest.fixture(scope="module")
def worker(model: LoadedModel) -> Iterator[InferenceWorker]:
    w = InferenceWorker(model)
    w.start()
    yield w
    w.close()


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    pixels = torch.randint(0, 256, (size[1], size[0], 3), generator=torch.Generator().manual_seed(seed))
    out = io.BytesIO()
    Image.fromarray(pixels.to(torch.uint8).numpy()).save(out, "JPEG", quality=90)
    return out.getvalue()


def in_process(model: LoadedModel, uploads: list[bytes], explain: bool = False) -> list:
    return run_jobs(model, [Job(data, explain) for data in uploads]).results


def run(w: InferenceWorker, uploads: list[bytes], explain: bool = False) -> BatchOutcome:
    return asyncio.run(w.run_batch([Job(data, explain) for data in uploads]))


def jobs(uploads: list[bytes]) -> list[Job]:
    return [Job(data) for data in uploads]


def same(results: list, expected: list) -> bool:
    """Equal top classes and probabilities (to float tolerance), and the same overlays."""
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        assert type(got) is type(want)
        if isinstance(got, Explanation):
            assert got.overlay_png == want.overlay_png
            got, want = got.scores, want.scores
        assert got.indices == want.indices
        assert got.probabilities == pytest.approx(want.probabilities, abs=1e-5)
    return True


def wait_until(condition, timeout: float = 20.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_child_predicts_what_the_server_process_would(model: LoadedModel, worker: InferenceWorker) -> None:
    assert worker.alive and worker.pid != os.getpid()
    for n in (1, 3, 8):
        uploads = [jpeg(seed) for seed in range(n)]
        outcome = run(worker, uploads)
        assert outcome.forwarded == n and len(outcome.decode_s) == n and outcome.forward_s > 0
        assert same(outcome.results, in_process(model, uploads))


def test_child_explains_what_the_server_process_would(model: LoadedModel, worker: InferenceWorker) -> None:
    uploads = [jpeg(seed) for seed in range(3)]
    outcome = run(worker, uploads, explain=True)
    assert all(isinstance(r, Explanation) and r.overlay_png.startswith(b"\x89PNG") for r in outcome.results)
    assert same(outcome.results, in_process(model, uploads, explain=True))
    # Scored and explained jobs in one batch: each gets what it asked for, the scores agree.
    mixed = asyncio.run(worker.run_batch([Job(uploads[0]), Job(uploads[1], explain=True)]))
    assert [type(r) for r in mixed.results] == [Scores, Explanation]
    assert mixed.results[0].indices[0] == in_process(model, uploads[:1])[0].indices[0]


def test_an_undecodable_image_fails_alone_with_its_own_error(
    model: LoadedModel, worker: InferenceWorker
) -> None:
    bmp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(bmp, "BMP")
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, "PNG")
    good = [jpeg(1), jpeg(2)]
    uploads = [good[0], b"not an image", bmp.getvalue(), jpeg(3)[:400], bomb.getvalue(), good[1]]
    outcome = run(worker, uploads)
    kinds = [type(r) for r in outcome.results]
    assert kinds == [
        Scores,
        CorruptImageError,
        UnsupportedImageError,
        CorruptImageError,
        DecompressionBombError,
        Scores,
    ]
    assert "BMP images are not accepted" in str(outcome.results[2])
    assert outcome.forwarded == 2
    assert same([outcome.results[0], outcome.results[5]], in_process(model, good))
    # Nothing decodable: no forward pass at all, and the worker carries on.
    assert run(worker, [b"junk"]).forwarded == 0
    assert run(worker, [jpeg(4)]).forwarded == 1


def test_a_killed_child_is_replaced_by_the_next_batch(model: LoadedModel) -> None:
    w = InferenceWorker(model)
    w.start()
    try:
        first_pid = w.pid
        os.kill(first_pid, signal.SIGKILL)
        assert wait_until(lambda: not w.alive)
        uploads = [jpeg(5), jpeg(6)]
        outcome = run(w, uploads)
        assert same(outcome.results, in_process(model, uploads))
        assert w.alive and w.pid != first_pid
    finally:
        w.close()
    assert not w.alive


def test_child_dying_mid_batch_fails_that_batch_with_worker_error(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = InferenceWorker(model)
    w.start()
    try:
        pid = w.pid
        real_send = worker_module._Channel.send

        def send_then_kill(channel: object, message: object) -> None:
            real_send(channel, message)
            os.kill(pid, signal.SIGKILL)

        monkeypatch.setattr(worker_module._Channel, "send", send_then_kill)
        with pytest.raises(WorkerError, match="exited"):
            run(w, [jpeg(7)])
        monkeypatch.undo()
        assert run(w, [jpeg(8)]).forwarded == 1  # a new child took over
    finally:
        w.close()


def test_an_abandoned_batch_does_not_answer_the_next_one(model: LoadedModel) -> None:
    # A batch cancelled while the child works on it (drain timeout): the next batch must get its own
    # answer, not the late reply to the abandoned one.
    w = InferenceWorker(model)
    w.start()
    try:

        async def abandon_then_run() -> object:
            task = asyncio.ensure_future(w.run_batch([Job(jpeg(s)) for s in range(16)]))
            await asyncio.sleep(0.01)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return await w.run_batch([Job(jpeg(99))])

        outcome = asyncio.run(abandon_then_run())
        assert outcome.forwarded == 1 and len(outcome.results) == 1
        assert same(outcome.results, in_process(model, [jpeg(99)]))
    finally:
        w.close()


def test_batches_sent_while_the_child_is_busy_are_answered_in_order(
    model: LoadedModel, worker: InferenceWorker
) -> None:
    # Pipelining: the next batches wait in the pipe while the child runs one; each caller gets
    # its own answer, and the sends never block the loop (the batches exceed the socket buffer).
    batches = [[jpeg(seed, size=(1024, 768)) for seed in range(n, n + 6)] for n in (0, 10, 20)]
    assert sum(len(u) for u in batches[1]) > 2**20

    async def at_once() -> list[BatchOutcome]:
        return list(await asyncio.gather(*(worker.run_batch([Job(u) for u in b]) for b in batches)))

    for uploads, outcome in zip(batches, uvloop.run(at_once()), strict=True):
        assert outcome.forwarded == len(uploads)
        assert same(outcome.results, in_process(model, uploads))
    assert worker.outstanding == 0


def test_child_ignores_sigterm_and_sigint(worker: InferenceWorker) -> None:
    # The server owns shutdown (drain first): a signal to the process group must not kill the child.
    os.kill(worker.pid, signal.SIGTERM)
    os.kill(worker.pid, signal.SIGINT)
    assert run(worker, [jpeg(9)]).forwarded == 1


def test_child_exits_when_its_server_goes_away(model: LoadedModel) -> None:
    w = InferenceWorker(model)
    w.start()
    process = w._process
    w._conn.close()  # what the kernel does when the server process dies
    assert wait_until(lambda: not process.is_alive())
    w._conn = None
    w.close()


def tampered_after_loading(model: LoadedModel, tmp_path: Path) -> LoadedModel:
    """A copy of the model, loaded (verified), whose weights then change on disk."""
    folder = Path(shutil.copytree(model.folder, tmp_path / "model"))
    loaded = load_model(str(folder), device="cpu")
    weights = folder / loaded.manifest.artifact
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    return loaded


def test_start_failure_names_the_reason(model: LoadedModel, tmp_path: Path) -> None:
    w = InferenceWorker(tampered_after_loading(model, tmp_path))
    with pytest.raises(WorkerError, match="failed to start: ModelChecksumError"):
        w.start()
    assert not w.alive


def test_batches_larger_than_the_socket_buffer_under_uvloop(
    model: LoadedModel, worker: InferenceWorker
) -> None:
    # uvloop leaves a descriptor it watched non-blocking; the pipe must still carry multi-chunk
    # messages both ways, batch after batch (this failed with EAGAIN before the fix).
    uploads = [jpeg(seed, size=(1024, 768)) for seed in range(12)]
    assert sum(len(u) for u in uploads) > 2**21

    async def twice() -> list:
        return [await worker.run_batch([Job(uploads[0])]), await worker.run_batch([Job(u) for u in uploads])]

    small, big = uvloop.run(twice())
    assert big.forwarded == 12 and small.forwarded == 1
    assert same(big.results, in_process(model, uploads))


def test_a_pool_runs_batches_in_parallel_children_equal_to_in_process(model: LoadedModel) -> None:
    pool = WorkerPool(model, processes=2, total_threads=2)
    pool.start()
    try:
        pids = pool.pids
        assert pool.alive and len(set(pids)) == 2 and os.getpid() not in pids
        assert (pool.lanes, pool.primary_lanes) == (2 * PIPELINE_DEPTH, 2)
        first, second = [jpeg(seed) for seed in range(4)], [jpeg(seed) for seed in range(4, 7)]

        async def both() -> list[BatchOutcome]:
            return list(await asyncio.gather(pool.run_batch(jobs(first)), pool.run_batch(jobs(second))))

        for uploads, outcome in zip((first, second), asyncio.run(both()), strict=True):
            assert outcome.forwarded == len(uploads)
            assert same(outcome.results, in_process(model, uploads))
        with pytest.raises(WorkerError, match="busy"):  # more batches than lanes: the batcher's bug

            async def too_many() -> None:
                await asyncio.gather(*(pool.run_batch(jobs(first)) for _ in range(pool.lanes + 1)))

            asyncio.run(too_many())
        assert pool.alive and pool.pids == pids
    finally:
        pool.close()
    assert not pool.alive


def test_pool_threads_all_cpus_when_alone_a_share_when_not(model: LoadedModel) -> None:
    pool = WorkerPool(model, processes=2, total_threads=4)  # not started: the rule alone
    assert pool.threads_for() == 4
    busy = pool._idle.pop()
    assert pool.threads_for() == 2
    pool._idle.append(busy)
    assert WorkerPool(model, processes=3, total_threads=2).shared_threads == 1
    with pytest.raises(ValueError, match="at least one"):
        WorkerPool(model, processes=0, total_threads=2)


def test_children_spin_briefly_between_parallel_regions(model: LoadedModel, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv(worker_module.GOMP_SPINCOUNT_ENV, raising=False)
    w = InferenceWorker(model)
    w.start()
    try:
        environ = Path(f"/proc/{w.pid}/environ").read_bytes().split(b"\0")
        assert f"GOMP_SPINCOUNT={worker_module.GOMP_SPINCOUNT}".encode() in environ
        assert run(w, [jpeg(3)]).forwarded == 1
    finally:
        w.close()


def test_a_pool_that_cannot_start_stops_every_child(model: LoadedModel, tmp_path: Path) -> None:
    pool = WorkerPool(tampered_after_loading(model, tmp_path), processes=2, total_threads=2)
    with pytest.raises(WorkerError, match="failed to start: ModelChecksumError"):
        pool.start()
    assert not pool.alive and all(pid is None for pid in pool.pids)


def test_pool_sized_for_the_cpu_budget_and_the_models_sharing_it(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(THREADS_ENV, "4")
    alone, shared = WorkerPool.sized_for(model, 1), WorkerPool.sized_for(model, 2)
    pinned = WorkerPool.sized_for(model, 2, processes=3)  # FLORAI_INFERENCE_PROCESSES wins
    assert [len(p.workers) for p in (alone, shared, pinned)] == [4, 2, 3]
    assert [p.total_threads for p in (alone, shared, pinned)] == [4, 4, 4]
    assert [p.shared_threads for p in (alone, shared, pinned)] == [1, 2, 1]
    assert not any(w.alive for p in (alone, shared, pinned) for w in p.workers)  # nothing started


def test_children_start_without_the_servers_secrets(model: LoadedModel, monkeypatch) -> None:  # noqa: ANN001
    # A child decodes untrusted images: it must not hold the database URL, the JWT key, the API key
    # pepper or cloud credentials, only what Python, torch and the CPU/GPU runtimes read.
    secrets = {
        "DATABASE_URL": "postgresql://florai:db-password@db.internal/florai",
        "REDIS_URL": "redis://:redis-password@cache.internal:6379/0",
        "FLORAI_JWT_KEY": "jwt-signing-secret-" + "x" * 20,
        "FLORAI_API_KEY_PEPPER": "pepper-" + "y" * 20,
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    pool = WorkerPool(model, processes=2, total_threads=2)
    pool.start()
    try:
        for pid in pool.pids:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert not [name for name in secrets if f"{name}=".encode() in environ]
            assert not [v for v in secrets.values() if v.encode() in environ]
            assert b"OMP_NUM_THREADS=1" in environ and b"PATH=" in environ
        assert asyncio.run(pool.run_batch(jobs([jpeg(1)]))).forwarded == 1
    finally:
        pool.close()
    assert all(os.environ[name] == value for name, value in secrets.items())  # the server keeps them
