"""Fetch a model folder from ``s3://bucket/prefix`` into a local cache folder (boto3)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from florai.models.checksum import file_sha256
from florai.models.errors import ModelLoadError, ModelMissingError
from florai.models.manifest import MANIFEST_FILE, ModelManifest

CACHE_DIR_ENV = "FLORAI_MODEL_CACHE_DIR"
S3_SCHEME = "s3://"


def is_s3_uri(uri: str) -> bool:
    return uri.startswith(S3_SCHEME)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> (``bucket``, ``a/b``)."""
    bucket, _, prefix = uri[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ModelLoadError(f"{uri}: not an s3://bucket/prefix URI")
    return bucket, prefix.strip("/")


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or Path(tempfile.gettempdir()) / "florai-model-cache")


def _download(client, bucket: str, key: str, dest: Path) -> None:  # noqa: ANN001 (boto3 client)
    from botocore.exceptions import BotoCoreError, ClientError

    tmp = dest.with_name(f".{dest.name}.part")
    try:
        client.download_file(bucket, key, str(tmp))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NoSuchBucket"}:
            raise ModelMissingError(f"s3://{bucket}/{key}: object not found") from exc
        raise ModelLoadError(f"s3://{bucket}/{key}: download failed ({code or exc})") from exc
    except BotoCoreError as exc:
        raise ModelLoadError(f"s3://{bucket}/{key}: download failed ({exc})") from exc
    os.replace(tmp, dest)


def fetch_model_folder(uri: str, cache: Path | None = None) -> Path:
    """Download manifest.json, then the weights unless the cached copy already has the manifest's sha256."""
    import boto3

    bucket, prefix = split_s3_uri(uri)
    folder = (cache or cache_root()) / bucket / prefix
    folder.mkdir(parents=True, exist_ok=True)
    client = boto3.client("s3")
    key = f"{prefix}/{{}}" if prefix else "{}"
    _download(client, bucket, key.format(MANIFEST_FILE), folder / MANIFEST_FILE)
    manifest = ModelManifest.from_json((folder / MANIFEST_FILE).read_text(encoding="utf-8"), source=uri)
    weights = folder / manifest.artifact
    if not weights.is_file() or file_sha256(weights) != manifest.sha256:
        _download(client, bucket, key.format(manifest.artifact), weights)
    return folder
