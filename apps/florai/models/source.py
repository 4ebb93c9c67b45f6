"""Where a model's files are: a local folder, or an s3:// prefix fetched into a local cache, and the
manifest that describes them. Reading a source deserialises nothing (no torch): the server process
learns what a model is from here, and only the process that runs the model loads its weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from florai.metrics import MODEL_LOAD_FAILURES, MODEL_LOADED
from florai.models.checksum import file_sha256
from florai.models.errors import ModelChecksumError, ModelLoadError, ModelMissingError
from florai.models.manifest import MANIFEST_FILE, ModelManifest
from florai.models.s3 import fetch_model_folder, is_s3_uri


@dataclass(frozen=True)
class ModelSource:
    """A model folder on local disk (an s3:// model's cached copy) and its validated manifest."""

    uri: str
    folder: Path
    manifest: ModelManifest

    @property
    def weights(self) -> Path:
        return self.folder / self.manifest.artifact


def resolve_model(uri: str) -> ModelSource:
    """The folder and manifest of the model at ``uri``; ModelLoadError (ModelMissingError when a file
    is absent) names the artifact. The weights' checksum is verified by whoever loads them."""
    source = str(uri)
    folder = fetch_model_folder(source) if is_s3_uri(source) else Path(source)
    if not folder.is_dir():
        raise ModelMissingError(f"{source}: model folder does not exist")
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelMissingError(f"{source}: no {MANIFEST_FILE} (is this a model folder?)")
    manifest = ModelManifest.from_json(manifest_path.read_text(encoding="utf-8"), source=str(manifest_path))
    if not (folder / manifest.artifact).is_file():
        raise ModelMissingError(
            f"{source}: weights file {manifest.artifact!r} named in the manifest is missing"
        )
    return ModelSource(source, folder, manifest)


def record_load_failure(exc: ModelLoadError, uri: str) -> None:
    """Count a failed load under the model's name (the folder name while the manifest is unread)."""
    name = exc.model_name or Path(str(uri).rstrip("/")).name or str(uri)
    MODEL_LOAD_FAILURES.labels(model=name, reason=exc.reason).inc()
    MODEL_LOADED.labels(model=name).set(0)


def verify_weights(source: ModelSource) -> None:
    """ModelChecksumError unless the weights file hashes to the manifest's sha256 (checked before
    anything deserialises it)."""
    actual = file_sha256(source.weights)
    if actual != source.manifest.sha256:
        raise ModelChecksumError(
            f"{source.weights}: sha256 mismatch, expected {source.manifest.sha256} (manifest) but the file"
            f" has {actual}; refusing to load a weights file that is not the one the manifest describes"
        )
