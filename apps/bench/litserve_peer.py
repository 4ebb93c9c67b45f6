"""(f) LitServe as a peer: the same model artifact and the same decode + preprocess + forward as the
service, served the way LitServe's documentation and its own CPU benchmark set it up.

Configuration, and where each value comes from (LitServe 0.2.19):
- ``max_batch_size=8, batch_timeout=0.01``: the CPU entry of LitServe's own image-classifier benchmark
  (tests/parity_fastapi/ls-server.py: ``"cpu": {"batch_size": 8, "workers_per_device": 2}`` and
  ``batch_timeout=0.01``);
- ``workers_per_device``: the CPUs available here (LitServer's docstring: "For CPU, set to the number of
  cores available on the machine"), each worker's torch on one thread so the workers do not
  oversubscribe the CPUs (the service's worker pool does the same);
- ``fast_queue=True`` (ZeroMQ, the benchmark's choice), ``num_api_servers`` left at its default (one per
  inference worker).
The request is the service's own multipart upload (part ``file``); the worker decodes each image in
``batch`` exactly as the service's worker does (florai.inference.images.decode_for_model) and runs
``LoadedModel.predict`` (channels-last, inference mode); the answer is the top-5 as JSON.

    python apps/bench/litserve_peer.py   (reads PORT and FLORAI_MODELS_DIR, as the service does)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import litserve as ls  # noqa: E402
import torch  # noqa: E402
from fastapi import HTTPException  # noqa: E402

from florai.contract import TASK_IDENTIFY  # noqa: E402
from florai.inference.images import ImageError, decode_for_model  # noqa: E402
from florai.inference.runtime import available_cpus  # noqa: E402

MAX_BATCH_SIZE = 8
BATCH_TIMEOUT_S = 0.01
REQUEST_TIMEOUT_S = 10
TOP_K = 5
API_PATH = "/predict"
HEALTH_PATH = "/health"


class ReferenceModelAPI(ls.LitAPI):
    """The identify reference model behind LitServe."""

    def __init__(self, model_dir: str, threads: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.model_dir = model_dir
        self.threads = threads

    def setup(self, device: str) -> None:
        from florai.models.loader import load_model

        torch.set_num_threads(self.threads)
        self.model = load_model(self.model_dir, device="cpu")
        self.labels = self.model.manifest.labels

    def decode_request(self, request) -> bytes:  # noqa: ANN001
        # Unannotated, LitServe parses the multipart form itself and hands over starlette's FormData
        # (an annotation would be read as a request model; this module's annotations are strings).
        return request["file"].file.read()

    def batch(self, uploads: list[bytes]) -> list[torch.Tensor | None]:
        tensors: list[torch.Tensor | None] = []
        for data in uploads:
            try:
                tensors.append(decode_for_model(data, self.model.manifest)[1])
            except ImageError:
                tensors.append(None)
        return tensors

    def predict(self, tensors: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
        good = [t for t in tensors if t is not None]
        rows = iter(self.model.predict(torch.stack(good)) if good else ())
        return [next(rows) if t is not None else None for t in tensors]

    def unbatch(self, outputs: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
        return outputs

    def encode_response(self, probabilities: torch.Tensor | None) -> dict:
        if probabilities is None:
            raise HTTPException(422, "not an image this model can use")
        top = probabilities.topk(min(TOP_K, len(self.labels)))
        return {
            "predictions": [
                {"id": self.labels[i], "confidence": p}
                for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
            ]
        }


def main() -> None:
    models = Path(os.environ.get("FLORAI_MODELS_DIR", ".data/models"))
    workers = available_cpus()
    api = ReferenceModelAPI(
        str(models / TASK_IDENTIFY),
        threads=1,
        max_batch_size=MAX_BATCH_SIZE,
        batch_timeout=BATCH_TIMEOUT_S,
        api_path=API_PATH,
    )
    server = ls.LitServer(
        api,
        accelerator="cpu",
        workers_per_device=workers,
        timeout=REQUEST_TIMEOUT_S,
        fast_queue=True,
        healthcheck_path=HEALTH_PATH,
    )
    server.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        log_level="warning",
        generate_client_file=False,
    )


if __name__ == "__main__":  # LitServe's spawned workers import this module too
    main()
