"""Reference models: untrained, deterministic stand-ins for the three inference tasks.

``make models`` (``python -m florai.models.reference --out DIR``) writes ``DIR/<task>/model.pt2`` and
``DIR/<task>/manifest.json`` for every task in ``florai.contract.TASKS``, with the labels of
``florai.catalogue.load_catalogue().labels(task)``. The weights are random (seeded, bit-identical on
every run and machine): they exercise the whole serving path, but their predictions mean nothing.

Serving real weights: put a trained artifact (torch.export ``.pt2`` whose forward returns
``(logits, last_feature_map)``, or a TorchScript file with ``"format": "torchscript"``) in a folder
beside a ``manifest.json`` of the same form (labels in output order, input size, normalisation,
sha256 of the weights file), then point the server at it: ``FLORAI_MODELS_DIR=/path`` (one
sub-folder per task) or a per-task URI such as ``FLORAI_MODEL_IDENTIFY=s3://bucket/identify/v3``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from florai.contract import TASKS
from florai.models.architecture import FlorNet, initialise_weights
from florai.models.checksum import file_sha256
from florai.models.manifest import (
    FORMAT_TORCH_EXPORT,
    IMAGENET_MEAN,
    IMAGENET_STD,
    MANIFEST_FILE,
    ModelManifest,
)

REFERENCE_VERSION = "0.1.0-reference"
ARTIFACT_FILE = "model.pt2"
INPUT_SIZE = (224, 224)
WIDTH = 0.5
ARCHITECTURE = f"florai-mobilenetv2-w{WIDTH}"
# Largest batch the exported graph accepts (the batcher's max batch size must stay below it).
MAX_EXPORT_BATCH = 256


def task_seed(task: str) -> int:
    """A fixed seed per task, so each task's stand-in has its own weights."""
    return zlib.crc32(task.encode())


def catalogue_labels() -> dict[str, tuple[str, ...]]:
    from florai.catalogue import load_catalogue

    catalogue = load_catalogue()
    return {task: tuple(catalogue.labels(task)) for task in TASKS}


def export_model(model: torch.nn.Module, path: Path) -> None:
    """torch.export with a dynamic batch dimension, written without example inputs (smaller file)."""
    batch = torch.export.Dim("batch", min=1, max=MAX_EXPORT_BATCH)
    # Batch 2 in the example: torch.export specialises a size-1 dimension to a constant.
    example = torch.zeros(2, 3, *INPUT_SIZE)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    program.example_inputs = None
    # Source locations would make the bytes depend on where the repository is checked out.
    for node in program.graph.nodes:
        node.meta.pop("stack_trace", None)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def build_model(task: str, labels: Sequence[str], out_dir: Path) -> Path:
    """Build, export and describe one task's reference model in ``out_dir/<task>``; returns that folder."""
    folder = out_dir / task
    folder.mkdir(parents=True, exist_ok=True)
    model = FlorNet(num_classes=len(labels), width=WIDTH)
    initialise_weights(model, task_seed(task))
    model.eval()
    export_model(model, folder / ARTIFACT_FILE)
    manifest = ModelManifest(
        name=task,  # the `model` label of every metric: the task keeps dashboards readable
        version=REFERENCE_VERSION,
        task=task,
        format=FORMAT_TORCH_EXPORT,
        artifact=ARTIFACT_FILE,
        sha256=file_sha256(folder / ARTIFACT_FILE),
        labels=tuple(labels),
        input_size=INPUT_SIZE,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        architecture=ARCHITECTURE,
    )
    (folder / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
    return folder


def build_all(out_dir: Path, labels: Mapping[str, Sequence[str]] | None = None) -> dict[str, Path]:
    """Build every task's reference model under ``out_dir``; labels default to the catalogue's."""
    labels = labels if labels is not None else catalogue_labels()
    return {task: build_model(task, labels[task], Path(out_dir)) for task in TASKS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the reference models (untrained stand-ins).")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder that receives one sub-folder per task"
    )
    args = parser.parse_args(argv)
    for task, folder in build_all(args.out).items():
        manifest = ModelManifest.from_json((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        print(f"{task}: {folder} ({manifest.num_classes} labels, sha256 {manifest.sha256[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
