"""``make bench``'s LitServe peer (bench.litserve_peer): the same artifact and preprocessing answer the
same top-5 as the model in this process, a non-image is refused, and stopping the peer leaves none of
its processes behind (LitServe's workers outlive a plain SIGTERM to its main process)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # apps/: the ``bench`` package

from bench.loopback_http import KeepAliveConnection, predictions_of  # noqa: E402
from bench.photos import photo_set  # noqa: E402
from bench.service import LITSERVE, MULTIPART_BOUNDARY, multipart_jpeg, running_service  # noqa: E402

from florai.contract import TASK_IDENTIFY  # noqa: E402
from florai.inference.execution import Job, run_jobs  # noqa: E402
from florai.models.loader import load_model  # noqa: E402


def test_litserve_serves_the_models_predictions_and_stops_cleanly(reference_models: dict[str, Path]) -> None:
    folder = reference_models[TASK_IDENTIFY]
    photos = photo_set(3)
    model = load_model(str(folder), device="cpu")
    expected = run_jobs(model, [Job(p) for p in photos]).results
    headers = {"Content-Type": f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"}

    async def post_all(base_url: str) -> list[tuple[int, bytes]]:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        connection = KeepAliveConnection(host, int(port))
        try:
            answers = [
                await connection.post(LITSERVE.request_path, headers, multipart_jpeg(p)) for p in photos
            ]
            answers.append(
                await connection.post(LITSERVE.request_path, headers, multipart_jpeg(b"not a jpeg"))
            )
            return answers
        finally:
            await connection.close()

    with running_service(folder.parent, 8, peer=LITSERVE) as server:
        server.pause()
        server.resume()  # a paused peer comes back and serves
        answers = asyncio.run(post_all(server.base_url))
    *images, refused = answers
    for (status, body), want in zip(images, expected, strict=True):
        assert status == 200
        predictions = predictions_of(body)
        assert [p["id"] for p in predictions] == [model.manifest.labels[i] for i in want.indices[:5]]
        assert [p["confidence"] for p in predictions] == pytest.approx(want.probabilities[:5], abs=1e-5)
    assert refused[0] == 422
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)  # the whole process group is gone
