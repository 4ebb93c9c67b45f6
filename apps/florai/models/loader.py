"""Load a model folder (local path or s3:// prefix): validate the manifest, verify sha256, deserialise.

The weights are hashed BEFORE deserialisation, so a tampered or truncated file is refused with
``ModelChecksumError`` (naming the expected and actual digest) and never reaches ``torch.load``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)

from florai.inference.runtime import configure_torch, select_device
from florai.metrics import MODEL_INFO, MODEL_LOAD_FAILURES, MODEL_LOADED
from florai.models.checksum import file_sha256
from florai.models.errors import ModelChecksumError, ModelLoadError, ModelMissingError
from florai.models.manifest import FORMAT_TORCH_EXPORT, FORMAT_TORCHSCRIPT, MANIFEST_FILE, ModelManifest
from florai.models.s3 import fetch_model_folder, is_s3_uri

__all__ = ["LoadedModel", "ModelChecksumError", "ModelLoadError", "ModelMissingError", "load_model"]


@dataclass
class LoadedModel:
    """A verified model on its device: batched probabilities and Grad-CAM explanations."""

    manifest: ModelManifest
    device: str
    module: Any
    # The verified local folder it was loaded from (an s3:// model's cached copy).
    folder: Path | None = None

    def predict(self, batch: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities [N, C] (float32, on the CPU) for a preprocessed batch [N, 3, H, W]."""
        with torch.inference_mode():
            # channels_last lets the convolutions skip layout reorders: 1.3-2x faster on CPU here.
            batch = batch.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            logits, _ = self.module(batch)
            return torch.softmax(logits.float(), dim=1).cpu()

    def explain(self, image: torch.Tensor, class_index: int | None = None) -> tuple[int, np.ndarray]:
        """Grad-CAM for one preprocessed image [3, H, W]: (class explained, heat map [H, W] in [0, 1]).

        The class defaults to the top prediction. The gradient of that class's logit with respect to
        the last feature map weights each channel (averaged over space); the ReLU of the weighted
        sum, upsampled to the input size and scaled to [0, 1], is the heat map.
        """
        height, width = image.shape[-2:]
        with torch.enable_grad():
            x = image.unsqueeze(0).to(self.device).requires_grad_(True)
            logits, feature_map = self.module(x)
            if class_index is None:
                class_index = int(logits[0].argmax())
            if not 0 <= class_index < self.manifest.num_classes:
                raise ValueError(f"class_index {class_index} outside 0..{self.manifest.num_classes - 1}")
            (gradients,) = torch.autograd.grad(logits[0, class_index], feature_map)
        with torch.no_grad():
            weights = gradients.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((weights * feature_map).sum(dim=1, keepdim=True))
            cam = F.interpolate(cam, size=(height, width), mode="bilinear", align_corners=False)[0, 0]
            peak = cam.max()
            cam = cam / peak if peak > 0 else torch.zeros_like(cam)
        return class_index, cam.clamp(0, 1).float().cpu().numpy()


def _deserialise(manifest: ModelManifest, weights: Path, device: str) -> Any:
    try:
        if manifest.format == FORMAT_TORCH_EXPORT:
            program = torch.export.load(str(weights))
            if device != "cpu":
                program = torch.export.passes.move_to_device_pass(program, device)
            return program.module()
        if manifest.format == FORMAT_TORCHSCRIPT:
            return torch.jit.load(str(weights), map_location=device).eval()
    except Exception as exc:  # any deserialisation failure is a load error with the file named
        raise ModelLoadError(f"{weights}: cannot load {manifest.format} artifact ({exc})") from exc
    raise ModelLoadError(f"{weights}: unknown format {manifest.format!r}")


def _check_outputs(manifest: ModelManifest, module: Any, device: str, source: str) -> None:
    """One forward on a blank image: the graph must return (logits [1, C], feature map [1, F, h, w])."""
    blank = torch.zeros(1, 3, *manifest.input_size, device=device)
    try:
        with torch.inference_mode():
            outputs = module(blank)
    except Exception as exc:
        raise ModelLoadError(
            f"{source}: forward pass on a {tuple(blank.shape)} input failed ({exc})"
        ) from exc
    if not (isinstance(outputs, tuple | list) and len(outputs) == 2):
        raise ModelLoadError(
            f"{source}: the model must return (logits, feature_map), got {type(outputs).__name__}"
        )
    logits, feature_map = outputs
    if logits.ndim != 2 or feature_map.ndim != 4:
        raise ModelLoadError(
            f"{source}: expected logits [N, C] and a feature map [N, F, h, w], "
            f"got {tuple(logits.shape)} and {tuple(feature_map.shape)}"
        )
    if logits.shape[1] != manifest.num_classes:
        raise ModelLoadError(
            f"{source}: manifest lists {manifest.num_classes} labels "
            f"but the model outputs {logits.shape[1]} classes"
        )


def _load_folder(folder: Path, device: str, source: str) -> LoadedModel:
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelMissingError(f"{source}: no {MANIFEST_FILE} (is this a model folder?)")
    manifest = ModelManifest.from_json(manifest_path.read_text(encoding="utf-8"), source=str(manifest_path))
    weights = folder / manifest.artifact
    if not weights.is_file():
        raise ModelMissingError(
            f"{source}: weights file {manifest.artifact!r} named in the manifest is missing"
        )
    actual = file_sha256(weights)
    if actual != manifest.sha256:
        error = ModelChecksumError(
            f"{weights}: sha256 mismatch, expected {manifest.sha256} (manifest) but the file has {actual}; "
            "refusing to load a weights file that is not the one the manifest describes"
        )
        error.model_name = manifest.name
        raise error
    try:
        module = _deserialise(manifest, weights, device)
        _check_outputs(manifest, module, device, source)
    except ModelLoadError as exc:
        exc.model_name = manifest.name
        raise
    return LoadedModel(manifest=manifest, device=device, module=module, folder=folder)


def load_model(uri: str, device: str | None = None) -> LoadedModel:
    """Load the model folder at ``uri`` (local path or ``s3://bucket/prefix``) onto ``device``.

    ``device`` defaults to CUDA when available, else CPU. Raises ``ModelLoadError`` (or its
    subclasses ``ModelMissingError`` / ``ModelChecksumError``) with a message naming the artifact.
    """
    source = str(uri)
    # Label for failures before the manifest names the model: the folder name (the task, by default).
    metric_name = Path(source.rstrip("/")).name or source
    try:
        configure_torch()  # intra-op threads follow the container's CPU limit (or FLORAI_TORCH_THREADS)
        resolved = select_device(device)
        folder = fetch_model_folder(source) if is_s3_uri(source) else Path(source)
        if not folder.is_dir():
            raise ModelMissingError(f"{source}: model folder does not exist")
        model = _load_folder(folder, resolved, source)
    except ModelLoadError as exc:
        name = exc.model_name or metric_name
        MODEL_LOAD_FAILURES.labels(model=name, reason=exc.reason).inc()
        MODEL_LOADED.labels(model=name).set(0)
        raise
    except ValueError as exc:  # an impossible device request
        MODEL_LOAD_FAILURES.labels(model=metric_name, reason=ModelLoadError.reason).inc()
        raise ModelLoadError(f"{source}: {exc}") from exc
    m = model.manifest
    MODEL_INFO.labels(model=m.name, version=m.version, task=m.task, device=resolved).set(1)
    MODEL_LOADED.labels(model=m.name).set(1)
    return model
