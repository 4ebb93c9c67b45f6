"""``make bench``'s floor server (bench.floor): the service's serving parts alone answer real
predictions over HTTP, the same as the model in process, and refuse what is not an image upload."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # apps/: the ``bench`` package

from bench.loopback_http import KeepAliveConnection, predictions_of  # noqa: E402
from bench.photos import photo_set  # noqa: E402
from bench.service import FLOOR, MULTIPART_BOUNDARY, multipart_jpeg, running_service  # noqa: E402

from florai.contract import TASK_IDENTIFY  # noqa: E402
from florai.inference.images import decode_for_model  # noqa: E402
from florai.models.loader import load_model  # noqa: E402


def test_floor_serves_the_models_predictions(reference_models: dict[str, Path]) -> None:
    folder = reference_models[TASK_IDENTIFY]
    photos = photo_set(3)
    model = load_model(str(folder), device="cpu")
    expected = [
        model.predict(decode_for_model(photo, model.manifest)[1][None])[0].topk(5) for photo in photos
    ]
    headers = {"Content-Type": f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"}

    async def post_all(base_url: str) -> list[tuple[int, bytes]]:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        connection = KeepAliveConnection(host, int(port))
        try:
            answers = [await connection.post("/identify", headers, multipart_jpeg(p)) for p in photos]
            answers.append(await connection.post("/identify", headers, b"not multipart"))
            return answers
        finally:
            await connection.close()

    with running_service(folder.parent, 4, peer=FLOOR) as floor:
        assert httpx.get(floor.base_url + "/readyz", timeout=10).status_code == 200
        answers = asyncio.run(post_all(floor.base_url))

    *images, refused = answers
    for (status, body), top in zip(images, expected, strict=True):
        assert status == 200
        predictions = predictions_of(body)
        assert [p["id"] for p in predictions] == [model.manifest.labels[i] for i in top.indices.tolist()]
        got = torch.tensor([p["confidence"] for p in predictions])
        assert torch.allclose(got, top.values, atol=1e-5)
    assert refused[0] == 422 and "error" in json.loads(refused[1])
