"""load_model: local folders and s3:// prefixes (moto), checksum and manifest refusals, predict, Grad-CAM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import numpy as np
import pytest
import torch
from moto import mock_aws
from prometheus_client import REGISTRY

from florai.contract import TASK_DIAGNOSE, TASK_IDENTIFY
from florai.models.architecture import FlorNet, initialise_weights
from florai.models.checksum import file_sha256
from florai.models.loader import (
    LoadedModel,
    ModelChecksumError,
    ModelLoadError,
    ModelMissingError,
    load_model,
)
from florai.models.manifest import FORMAT_TORCHSCRIPT, MANIFEST_FILE
from florai.models.s3 import CACHE_DIR_ENV


def copy_model(reference_models: dict[str, Path], tmp_path: Path, task: str = TASK_IDENTIFY) -> Path:
    return Path(shutil.copytree(reference_models[task], tmp_path / task))


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / MANIFEST_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def failures(model: str, reason: str) -> float:
    value = REGISTRY.get_sample_value("florai_model_load_failures_total", {"model": model, "reason": reason})
    return value or 0.0


@pytest.fixture(scope="module")
def identify_model(reference_models: dict[str, Path]) -> LoadedModel:
    return load_model(str(reference_models[TASK_IDENTIFY]), device="cpu")


def test_loads_on_cpu_and_records_metrics(identify_model: LoadedModel) -> None:
    m = identify_model.manifest
    assert identify_model.device == "cpu"
    info = {"model": m.name, "version": m.version, "task": m.task, "device": "cpu"}
    assert REGISTRY.get_sample_value("florai_model_info", info) == 1.0
    assert REGISTRY.get_sample_value("florai_model_loaded", {"model": m.name}) == 1.0


def test_predict_returns_probabilities_per_image(identify_model: LoadedModel) -> None:
    batch = torch.randn(5, 3, *identify_model.manifest.input_size, generator=torch.Generator().manual_seed(1))
    probabilities = identify_model.predict(batch)
    assert probabilities.shape == (5, identify_model.manifest.num_classes)
    assert probabilities.dtype == torch.float32
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(5), atol=1e-5)
    assert (probabilities >= 0).all()
    # Each row is that image's own prediction, whatever else is in the batch.
    assert torch.allclose(identify_model.predict(batch[2:3])[0], probabilities[2], atol=1e-5)


def test_grad_cam_heat_map_on_the_exported_graph(identify_model: LoadedModel) -> None:
    height, width = identify_model.manifest.input_size
    image = torch.randn(3, height, width, generator=torch.Generator().manual_seed(2))
    top = int(identify_model.predict(image[None])[0].argmax())
    class_index, heat = identify_model.explain(image)
    assert class_index == top
    assert heat.shape == (height, width)
    assert heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    # Another class gives another map: the gradient really depends on the class chosen.
    other = (top + 1) % identify_model.manifest.num_classes
    other_index, other_heat = identify_model.explain(image, class_index=other)
    assert other_index == other
    assert not np.allclose(heat, other_heat)
    with pytest.raises(ValueError, match="outside"):
        identify_model.explain(image, class_index=identify_model.manifest.num_classes)


def test_checksum_mismatch_names_both_digests(reference_models: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_model(reference_models, tmp_path)
    weights = folder / "model.pt2"
    expected = file_sha256(weights)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    before = failures(TASK_IDENTIFY, "checksum")
    with pytest.raises(ModelChecksumError) as caught:
        load_model(str(folder))
    message = str(caught.value)
    assert expected in message and file_sha256(weights) in message
    assert failures(TASK_IDENTIFY, "checksum") == before + 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"labels": ["only", "two"]}, "manifest lists 2 labels but the model outputs"),
        ({"format": "onnx"}, "format 'onnx' is not one of"),
        ({"input_size": [224]}, "input_size must be"),
    ],
)
def test_invalid_manifest_is_refused(
    reference_models: dict[str, Path], tmp_path: Path, edit: dict, message: str
) -> None:
    folder = copy_model(reference_models, tmp_path)
    edit_manifest(folder, **edit)
    with pytest.raises(ModelLoadError, match=message):
        load_model(str(folder))


def test_missing_manifest_field_is_named(reference_models: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_model(reference_models, tmp_path)
    data = json.loads((folder / MANIFEST_FILE).read_text())
    del data["mean"]
    (folder / MANIFEST_FILE).write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="missing field"):
        load_model(str(folder))


def test_missing_folder_and_weights(reference_models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="does not exist"):
        load_model(str(tmp_path / "nowhere"))
    folder = copy_model(reference_models, tmp_path)
    (folder / "model.pt2").unlink()
    with pytest.raises(ModelMissingError, match="'model.pt2'"):
        load_model(str(folder))


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_format_loads_and_explains(tmp_path: Path) -> None:
    labels = ["a", "b", "c"]
    net = FlorNet(num_classes=len(labels))
    initialise_weights(net, seed=7)
    scripted = torch.jit.trace(net.eval(), torch.zeros(1, 3, 96, 96))
    scripted.save(str(tmp_path / "model.ts"))
    manifest = {
        "name": "ts-diagnose",
        "version": "0.0.1",
        "task": TASK_DIAGNOSE,
        "format": FORMAT_TORCHSCRIPT,
        "artifact": "model.ts",
        "sha256": file_sha256(tmp_path / "model.ts"),
        "labels": labels,
        "input_size": [96, 96],
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
    }
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    model = load_model(str(tmp_path))
    assert model.predict(torch.zeros(2, 3, 96, 96)).shape == (2, 3)
    class_index, heat = model.explain(torch.randn(3, 96, 96), class_index=1)
    assert class_index == 1 and heat.shape == (96, 96)


def upload_folder(client, folder: Path, bucket: str, prefix: str) -> None:  # noqa: ANN001
    for path in folder.iterdir():
        client.upload_file(str(path), bucket, f"{prefix}/{path.name}")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket="models", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def test_loads_from_s3_then_reuses_the_verified_cache(
    reference_models: dict[str, Path], s3, tmp_path: Path
) -> None:  # noqa: ANN001
    upload_folder(s3, reference_models[TASK_IDENTIFY], "models", "identify/v1")
    model = load_model("s3://models/identify/v1/")
    assert model.manifest.task == TASK_IDENTIFY
    assert model.predict(torch.zeros(1, 3, *model.manifest.input_size)).shape[0] == 1
    assert (tmp_path / "cache" / "models" / "identify" / "v1" / "model.pt2").is_file()
    # The weights are not fetched again while the cached copy matches the manifest's sha256.
    s3.delete_object(Bucket="models", Key="identify/v1/model.pt2")
    assert load_model("s3://models/identify/v1").manifest.sha256 == model.manifest.sha256


def test_s3_tampered_weights_are_refused(reference_models: dict[str, Path], s3, tmp_path: Path) -> None:  # noqa: ANN001
    upload_folder(s3, reference_models[TASK_IDENTIFY], "models", "identify/v2")
    s3.put_object(Bucket="models", Key="identify/v2/model.pt2", Body=b"not the weights")
    with pytest.raises(ModelChecksumError, match="sha256 mismatch"):
        load_model("s3://models/identify/v2")


def test_s3_missing_prefix_is_a_missing_model(s3) -> None:  # noqa: ANN001
    with pytest.raises(ModelMissingError, match="s3://models/nothing/here/manifest.json: object not found"):
        load_model("s3://models/nothing/here")
