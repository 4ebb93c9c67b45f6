"""``manifest.json``: what a model artifact is and how to feed it, checked before anything loads.

A model folder (local or under an s3:// prefix) holds the weights file named by ``artifact`` and this
manifest. Real, trained weights are served by writing the same manifest beside them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from florai.contract import TASKS
from florai.models.errors import ModelLoadError

MANIFEST_FILE = "manifest.json"
FORMAT_TORCH_EXPORT = "torch.export"
FORMAT_TORCHSCRIPT = "torchscript"
FORMATS = (FORMAT_TORCH_EXPORT, FORMAT_TORCHSCRIPT)
# ImageNet statistics: what MobileNet-class backbones are trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelManifest:
    """One model artifact: identity, task, labels (one per output), input geometry, weights checksum."""

    name: str
    version: str
    task: str
    format: str
    artifact: str
    sha256: str
    labels: tuple[str, ...]
    # (height, width) the network takes after resize + centre crop.
    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    architecture: str = ""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ModelLoadError(f"invalid model manifest for {self.name!r}: " + "; ".join(problems))

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def to_json(self) -> str:
        """Deterministic text: sorted keys, 2-space indent, trailing newline."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "manifest.json") -> ModelManifest:
        """Parse and validate; a ModelLoadError names ``source`` and every missing or wrong field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{source}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ModelLoadError(f"{source}: expected a JSON object, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        required = [f.name for f in fields(cls) if f.name != "architecture"]
        missing = [name for name in required if name not in data]
        if missing:
            raise ModelLoadError(f"{source}: missing field(s) {', '.join(missing)}")
        try:
            values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
            for key in ("labels", "input_size", "mean", "std"):
                if not isinstance(values[key], list):
                    raise ModelLoadError(f"{source}: field {key!r} must be a list")
                values[key] = tuple(values[key])
            return cls(**values)
        except ModelLoadError as exc:
            raise ModelLoadError(f"{source}: {exc}") from exc


def _problems(m: ModelManifest) -> list[str]:
    problems = []
    for key in ("name", "version", "artifact"):
        if not isinstance(getattr(m, key), str) or not getattr(m, key):
            problems.append(f"{key} must be a non-empty string")
    if isinstance(m.artifact, str) and (m.artifact in {".", ".."} or "/" in m.artifact or "\\" in m.artifact):
        problems.append(f"artifact {m.artifact!r} must be a file name inside the model folder")
    if m.task not in TASKS:
        problems.append(f"task {m.task!r} is not one of {', '.join(TASKS)}")
    if m.format not in FORMATS:
        problems.append(f"format {m.format!r} is not one of {', '.join(FORMATS)}")
    if not (isinstance(m.sha256, str) and re.fullmatch(r"[0-9a-f]{64}", m.sha256)):
        problems.append("sha256 must be 64 lowercase hex digits")
    if not m.labels or not all(isinstance(label, str) and label for label in m.labels):
        problems.append("labels must be a non-empty list of non-empty strings")
    elif len(set(m.labels)) != len(m.labels):
        problems.append("labels must be unique")
    if len(m.input_size) != 2 or not all(isinstance(v, int) and v > 0 for v in m.input_size):
        problems.append("input_size must be [height, width], two positive integers")
    for key in ("mean", "std"):
        values = getattr(m, key)
        if len(values) != 3 or not all(isinstance(v, int | float) for v in values):
            problems.append(f"{key} must be three numbers (R, G, B)")
    if len(m.std) == 3 and any(isinstance(v, int | float) and v <= 0 for v in m.std):
        problems.append("std values must be positive")
    return problems
