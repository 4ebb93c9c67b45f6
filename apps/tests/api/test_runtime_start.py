"""Start-up in process mode: every task's worker pool is launched before any is waited on, a pool
that cannot start takes only its own task out of service (its children stopped; the reason in the
log and the load-failure metric, not in /readyz), and the server process loads no model."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from florai import contract
from florai.api import create_app
from florai.inference.worker import WorkerPool
from florai.metrics import MODEL_LOAD_FAILURES, MODEL_LOADED
from florai.settings import Settings

from .conftest import DEV_KEY


def test_pools_start_together_and_a_failed_one_leaves_the_others_serving(
    tmp_path: Path, models_dir: str, make_png, monkeypatch, caplog
) -> None:
    models = Path(shutil.copytree(models_dir, tmp_path / "models"))
    events: list[tuple[str, str]] = []
    launched_pools: list[WorkerPool] = []
    launch, wait_ready = WorkerPool.launch, WorkerPool.wait_ready

    def launch_spy(pool: WorkerPool):  # noqa: ANN202
        events.append(("launch", pool.manifest.task))
        launched_pools.append(pool)
        if pool.manifest.task == contract.TASK_DIAGNOSE:  # changed on disk: the children refuse it
            weights = models / contract.TASK_DIAGNOSE / pool.manifest.artifact
            data = bytearray(weights.read_bytes())
            data[len(data) // 2] ^= 0xFF
            weights.write_bytes(bytes(data))
        return launch(pool)

    def wait_spy(pool: WorkerPool, handles) -> None:  # noqa: ANN001
        events.append(("wait", pool.manifest.task))
        wait_ready(pool, handles)

    monkeypatch.setattr(WorkerPool, "launch", launch_spy)
    monkeypatch.setattr(WorkerPool, "wait_ready", wait_spy)
    settings = Settings(
        data_dir=tmp_path / "data",
        models_dir=str(models),
        api_key=DEV_KEY,
        services=("identify", "diagnose"),
        inference_worker="process",
        inference_processes=1,
    )
    with TestClient(create_app(settings)) as client:
        tasks = (contract.TASK_IDENTIFY, contract.TASK_DIAGNOSE)
        assert [kind for kind, _ in events] == ["launch", "launch", "wait", "wait"]
        assert {task for _, task in events} == set(tasks)
        ready = client.get(contract.READY_PATH)
        assert ready.status_code == 503
        assert ready.json()["checks"][f"model:{contract.TASK_DIAGNOSE}"] == "failed"
        assert str(models) not in ready.text  # details stay in the log
        logged = [r for r in caplog.records if r.getMessage() == "inference worker failed"]
        assert "failed to start: ModelChecksumError" in logged[0].error
        assert ready.json()["checks"][f"model:{contract.TASK_IDENTIFY}"] == "ok"
        assert MODEL_LOADED.labels(model=contract.TASK_DIAGNOSE)._value.get() == 0
        failures = MODEL_LOAD_FAILURES.labels(model=contract.TASK_DIAGNOSE, reason="checksum")
        assert failures._value.get() >= 1
        files = {"file": ("leaf.png", make_png((5, 50, 150)), "image/png")}
        headers = {contract.API_KEY_HEADER: DEV_KEY}
        identify = client.post(f"{contract.API_PREFIX}/identify", files=files, headers=headers)
        assert identify.status_code == 200 and identify.json()["predictions"]
        diagnose = client.post(f"{contract.API_PREFIX}/diagnose", files=files, headers=headers)
        assert diagnose.status_code == 503 and diagnose.headers["Retry-After"]
        refusal = diagnose.json()
        assert refusal["code"] == "model_unavailable" and "diagnose model" in refusal["detail"]
        batch = client.post(
            f"{contract.API_PREFIX}/batch?task={contract.TASK_DIAGNOSE}",
            files=[("files", files["file"])],
            headers=headers,
        )
        assert batch.status_code == 503 and batch.json()["code"] == "model_unavailable"
        failed = next(p for p in launched_pools if p.manifest.task == contract.TASK_DIAGNOSE)
        assert not failed.alive and all(pid is None for pid in failed.pids)
