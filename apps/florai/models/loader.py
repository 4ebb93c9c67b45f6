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
from florai.metrics import MODEL_INFO, MODEL_LOADED
from florai.models.errors import ModelChecksumError, ModelLoadError, ModelMissingError
from florai.models.manifest import FORMAT_TORCH_EXPORT, FORMAT_TORCHSCRIPT, ModelManifest
from florai.models.source import record_load_failure, resolve_model, verify_weights

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
        The class defaults to the top prediction (``explain_batch`` for several images at once)."""
        if class_index is not None and not 0 <= class_index < self.manifest.num_classes:
            raise ValueError(f"class_index {class_index} outside 0..{self.manifest.num_classes - 1}")
        _, classes, heatmaps = self.explain_batch(image.unsqueeze(0), [class_index])
        return classes[0], heatmaps[0]

    def explain_batch(
        self, batch: torch.Tensor, class_indices: list[int | None] | None = None
    ) -> tuple[torch.Tensor, list[int], np.ndarray]:
        """One forward and one backward pass for a batch [N, 3, H, W]: the probabilities [N, C] (as
        ``predict`` gives them), the class explained for each image (its top prediction unless
        given) and its Grad-CAM heat map [N, H, W] in [0, 1].

        The gradient of each image's class logit with respect to the last feature map weights each
        channel (averaged over space); the ReLU of the weighted sum, upsampled to the input size and
        scaled to [0, 1], is the heat map. Images do not interact in an evaluation-mode forward
        pass, so the gradient of the sum of the chosen logits gives every image its own gradient.
        """
        height, width = batch.shape[-2:]
        with torch.enable_grad():
            x = batch.to(self.device).contiguous(memory_format=torch.channels_last).requires_grad_(True)
            logits, feature_map = self.module(x)
            chosen = [
                int(logits[i].argmax()) if c is None else c
                for i, c in enumerate(class_indices or [None] * batch.shape[0])
            ]
            picked = logits[torch.arange(len(chosen)), torch.tensor(chosen)]
            (gradients,) = torch.autograd.grad(picked.sum(), feature_map)
        with torch.no_grad():
            probabilities = torch.softmax(logits.detach().float(), dim=1).cpu()
            weights = gradients.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((weights * feature_map.detach()).sum(dim=1, keepdim=True))
            cam = F.interpolate(cam, size=(height, width), mode="bilinear", align_corners=False)[:, 0]
            peak = cam.amax(dim=(1, 2), keepdim=True)
            cam = torch.where(peak > 0, cam / peak.clamp_min(1e-12), torch.zeros_like(cam))
        return probabilities, chosen, cam.clamp(0, 1).float().cpu().numpy()


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


def load_model(uri: str, device: str | None = None) -> LoadedModel:
    """Load the model folder at ``uri`` (local path or ``s3://bucket/prefix``) onto ``device``.

    ``device`` defaults to CUDA when available, else CPU. Raises ``ModelLoadError`` (or its
    subclasses ``ModelMissingError`` / ``ModelChecksumError``) with a message naming the artifact.
    """
    try:
        configure_torch()  # intra-op threads follow the container's CPU limit (or FLORAI_TORCH_THREADS)
        try:
            resolved = select_device(device)
        except ValueError as exc:  # an impossible device request
            raise ModelLoadError(f"{uri}: {exc}") from exc
        source = resolve_model(uri)
        manifest = source.manifest
        try:
            verify_weights(source)
            module = _deserialise(manifest, source.weights, resolved)
            _check_outputs(manifest, module, resolved, str(uri))
        except ModelLoadError as exc:
            exc.model_name = manifest.name
            raise
    except ModelLoadError as exc:
        record_load_failure(exc, str(uri))
        raise
    MODEL_INFO.labels(model=manifest.name, version=manifest.version, task=manifest.task, device=resolved).set(
        1
    )
    MODEL_LOADED.labels(model=manifest.name).set(1)
    return LoadedModel(manifest=manifest, device=resolved, module=module, folder=source.folder)
