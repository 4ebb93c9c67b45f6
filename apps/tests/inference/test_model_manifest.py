"""ModelManifest: round trip, and a clear ModelLoadError for every kind of bad field."""

from __future__ import annotations

import dataclasses
import json

import pytest

from florai.models.errors import ModelLoadError
from florai.models.manifest import IMAGENET_MEAN, IMAGENET_STD, ModelManifest


def manifest(**changes: object) -> ModelManifest:
    values = dict(
        name="identify",
        version="1.2.3",
        task="identify",
        format="torch.export",
        artifact="model.pt2",
        sha256="ab" * 32,
        labels=("rose", "tulip"),
        input_size=(224, 224),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )
    values.update(changes)
    return ModelManifest(**values)


def test_json_round_trip_is_exact_and_sorted() -> None:
    original = manifest(architecture="x")
    text = original.to_json()
    assert ModelManifest.from_json(text) == original
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert original.num_classes == 2


def test_manifest_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        manifest().version = "2"  # type: ignore[misc]


def test_missing_fields_are_named() -> None:
    data = json.loads(manifest().to_json())
    del data["sha256"], data["labels"]
    with pytest.raises(ModelLoadError, match=r"m\.json: missing field\(s\) sha256, labels"):
        ModelManifest.from_json(json.dumps(data), source="m.json")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task": "weeding"}, "task 'weeding' is not one of"),
        ({"format": "onnx"}, "format 'onnx' is not one of"),
        ({"sha256": "xyz"}, "sha256 must be 64 lowercase hex digits"),
        ({"labels": ()}, "labels must be a non-empty list"),
        ({"labels": ("a", "a")}, "labels must be unique"),
        ({"input_size": (224,)}, "input_size must be"),
        ({"std": (0.2, 0.0, 0.2)}, "std values must be positive"),
        ({"artifact": "../evil.pt2"}, "must be a file name inside the model folder"),
    ],
)
def test_invalid_values_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ModelLoadError, match=message):
        manifest(**changes)


def test_not_json_is_a_load_error() -> None:
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        ModelManifest.from_json("{nope")
