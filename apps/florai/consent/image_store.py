"""Where consented images are kept: a local folder (embedded default) or ``s3://bucket/prefix``.

Layout in both: ``<root>/<user>/<sha256>.<ext>``; a user id that is not a plain file name is
replaced by a hash of it, so no id can escape its folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")


def user_segment(user_id: str) -> str:
    """A path segment for ``user_id``: itself when safe, else ``u-`` + a hash of it."""
    if _SAFE_SEGMENT.match(user_id) and ".." not in user_id:
        return user_id
    return "u-" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


def object_name(user_id: str, sha256: str, ext: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    ext = ext.lower().lstrip(".")
    if not _EXTENSION.match(ext):
        raise ValueError(f"bad image extension {ext!r}")
    return f"{user_segment(user_id)}/{sha256}.{ext}"


class ImageStore(Protocol):
    def put(self, user_id: str, sha256: str, data: bytes, ext: str) -> str:
        """Store the image and return its URI (a path or s3:// URI)."""

    def get(self, uri: str) -> bytes: ...

    def delete(self, uri: str) -> None: ...


class LocalImageStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def put(self, user_id: str, sha256: str, data: bytes, ext: str) -> str:
        path = self.root / object_name(user_id, sha256, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half an image, a crash leaves no partial file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)

    def _own(self, uri: str) -> Path:
        path = Path(uri).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{uri!r} is outside the image store {self.root}")
        return path

    def get(self, uri: str) -> bytes:
        return self._own(uri).read_bytes()

    def delete(self, uri: str) -> None:
        self._own(uri).unlink(missing_ok=True)


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key


class S3ImageStore:
    """Images in S3 under ``prefix``; with ``kms_key_id`` every object is written with SSE-KMS."""

    def __init__(self, uri: str, kms_key_id: str | None = None, client=None) -> None:
        self.bucket, prefix = split_s3_uri(uri)
        self.prefix = prefix.strip("/")
        self.kms_key_id = kms_key_id
        if client is None:
            import boto3  # only the cluster needs it; the embedded mode never imports boto3

            client = boto3.client("s3")
        self.client = client

    def put(self, user_id: str, sha256: str, data: bytes, ext: str) -> str:
        key = "/".join(p for p in (self.prefix, object_name(user_id, sha256, ext)) if p)
        extra = {}
        if self.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)
        return f"s3://{self.bucket}/{key}"

    def _own(self, uri: str) -> str:
        bucket, key = split_s3_uri(uri)
        if bucket != self.bucket or not key.startswith(self.prefix):
            raise ValueError(f"{uri!r} is outside the image store s3://{self.bucket}/{self.prefix}")
        return key

    def get(self, uri: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._own(uri))["Body"].read()

    def delete(self, uri: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._own(uri))


def open_image_store(uri: str, kms_key_id: str | None = None, s3_client=None) -> ImageStore:
    """The store for ``uri``: ``s3://bucket/prefix`` or a local folder path."""
    if uri.startswith("s3://"):
        return S3ImageStore(uri, kms_key_id=kms_key_id, client=s3_client)
    return LocalImageStore(uri)
