"""ProcessPredictor: the forward pass in a child process, equal to the in-process one, and robust to
the child dying, failing to start, or being left behind by its server."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from florai.contract import TASK_IDENTIFY
from florai.inference.worker import ProcessPredictor, WorkerError
from florai.models.loader import LoadedModel, load_model

MAX_BATCH = 4


@pytest.fixture(scope="module")
def model(reference_models: dict[str, Path]) -> LoadedModel:
    return load_model(str(reference_models[TASK_IDENTIFY]), device="cpu")


@pytest.fixture(scope="module")
def predictor(model: LoadedModel) -> Iterator[ProcessPredictor]:
    worker = ProcessPredictor(model, MAX_BATCH)
    worker.start()
    yield worker
    worker.close()


def images(n: int, model: LoadedModel, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, *model.manifest.input_size, generator=torch.Generator().manual_seed(seed))


def wait_until(condition, timeout: float = 20.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_child_predicts_what_the_server_process_would(
    model: LoadedModel, predictor: ProcessPredictor
) -> None:
    assert predictor.alive and predictor.pid != os.getpid()
    for n in (1, 3, MAX_BATCH):
        batch = images(n, model, seed=n)
        assert torch.allclose(predictor.predict(batch), model.predict(batch), atol=1e-5)
    # The answer is a copy: the next batch does not overwrite it through the shared buffer.
    first = predictor.predict(images(1, model, seed=10))
    snapshot = first.clone()
    predictor.predict(images(1, model, seed=11))
    assert torch.equal(first, snapshot)


def test_batch_larger_than_the_shared_buffer_is_refused(
    model: LoadedModel, predictor: ProcessPredictor
) -> None:
    with pytest.raises(ValueError, match=f"larger than the worker's {MAX_BATCH}"):
        predictor.predict(images(MAX_BATCH + 1, model))


def test_a_killed_child_fails_its_batch_only_and_is_replaced(model: LoadedModel) -> None:
    worker = ProcessPredictor(model, MAX_BATCH)
    worker.start()
    try:
        first_pid = worker.pid
        os.kill(first_pid, signal.SIGKILL)
        assert wait_until(lambda: not worker.alive)
        batch = images(2, model, seed=3)
        # The next batch starts a new child and is answered.
        assert torch.allclose(worker.predict(batch), model.predict(batch), atol=1e-5)
        assert worker.alive and worker.pid != first_pid
    finally:
        worker.close()
    assert not worker.alive


def test_child_dying_mid_batch_raises_worker_error(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = ProcessPredictor(model, MAX_BATCH)
    worker.start()
    try:
        pid = worker.pid
        conn = worker._conn
        real_send = conn.send

        def send_then_kill(message: object) -> None:
            real_send(message)
            os.kill(pid, signal.SIGKILL)

        monkeypatch.setattr(conn, "send", send_then_kill)
        with pytest.raises(WorkerError, match="exited"):
            worker.predict(images(1, model))
    finally:
        worker.close()


def test_child_ignores_sigterm_and_sigint(model: LoadedModel, predictor: ProcessPredictor) -> None:
    # The server owns shutdown (drain first); a signal to the process group must not kill the child.
    os.kill(predictor.pid, signal.SIGTERM)
    os.kill(predictor.pid, signal.SIGINT)
    batch = images(1, model, seed=5)
    assert torch.allclose(predictor.predict(batch), model.predict(batch), atol=1e-5)


def test_child_exits_when_its_server_goes_away(model: LoadedModel) -> None:
    worker = ProcessPredictor(model, MAX_BATCH)
    worker.start()
    process = worker._process
    worker._conn.close()  # what the kernel does when the server process dies
    assert wait_until(lambda: not process.is_alive())
    worker._conn = None
    worker.close()


def test_start_failure_names_the_reason(model: LoadedModel, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(model.folder, tmp_path / "model"))
    loaded = load_model(str(folder), device="cpu")
    weights = folder / loaded.manifest.artifact
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))  # changed after the server verified it
    worker = ProcessPredictor(loaded, MAX_BATCH)
    with pytest.raises(WorkerError, match="failed to start: ModelChecksumError"):
        worker.start()
    assert not worker.alive
