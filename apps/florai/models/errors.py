"""Why a model artifact could not be loaded; every message names the artifact and what to fix."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """The artifact is missing, its manifest is invalid, or it does not deserialise."""

    # Label value of florai_model_load_failures{reason=...}.
    reason = "invalid"
    # The manifest's model name, once known (the metric label of the failure).
    model_name: str | None = None


class ModelMissingError(ModelLoadError):
    """The folder, manifest or weights file (or the s3:// object) does not exist."""

    reason = "missing"


class ModelChecksumError(ModelLoadError):
    """The weights file's sha256 differs from the one recorded in the manifest."""

    reason = "checksum"
