"""Reads image uploads: multipart ``file`` (+ organ, lat, lon fields) or JSON ``image_base64``
(the bodies florai.api.bodies declares).

Sizes and media types are checked here, before any image decoder sees the bytes; refusals are
domain errors (florai.services.errors) or, for fields that do not validate, FastAPI's 422.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from florai import contract
from florai.api import multipart
from florai.api.bodies import MetadataFields
from florai.api.schemas import BatchRequest, ImageBase64Request, ImageMetadata
from florai.services.errors import (
    InvalidImageError,
    MalformedBodyError,
    TooLargeError,
    TooManyItemsError,
    UnsupportedMediaError,
)

MULTIPART = "multipart/form-data"
JSON = "application/json"
# Part content types accepted as "maybe an image"; the decoder makes the final call.
GENERIC_BINARY = frozenset({"", "application/octet-stream"})
METADATA_FIELDS = ("organ", "lat", "lon")
ModelT = TypeVar("ModelT", bound=BaseModel)
# Multipart parts other than files are small fields (organ, lat, lon).
MAX_FIELD_BYTES = 1024


@dataclass(frozen=True)
class ImageUpload:
    data: bytes
    metadata: ImageMetadata


def image_too_large_message() -> str:
    return f"image exceeds the limit of {contract.MAX_IMAGE_BYTES} bytes"


def too_many_items(count: int) -> TooManyItemsError:
    return TooManyItemsError(f"{count} images in one batch; at most {contract.MAX_BATCH_ITEMS} are allowed")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_image_upload(request: Request) -> ImageUpload:
    """The one image of an /identify, /diagnose or /growth-stage request."""
    kind = media_type(request)
    if kind == MULTIPART:
        parts = await _parts(request)
        files = [p for p in parts if p.name == "file" and p.is_file]
        if len(files) != 1:
            raise _missing("file", "exactly one multipart part named 'file' with the image is required")
        return ImageUpload(_file_data(files[0]), _form_metadata(parts))
    if kind == JSON:
        body = _validate(ImageBase64Request, await request.body())
        return ImageUpload(
            _decode_base64(body.image_base64), ImageMetadata(**body.model_dump(exclude={"image_base64"}))
        )
    raise _wrong_body_type(kind)


async def read_batch_upload(request: Request) -> list[ImageUpload]:
    """The images of a POST /batch: multipart parts named ``files`` or JSON ``items``."""
    kind = media_type(request)
    if kind == MULTIPART:
        parts = await _parts(request)
        files = [p for p in parts if p.name == "files" and p.is_file]
        if not files:
            raise _missing("files", "at least one multipart part named 'files' is required")
        if len(files) > contract.MAX_BATCH_ITEMS:
            raise too_many_items(len(files))
        metadata = _form_metadata(parts)
        return [ImageUpload(_file_data(f), metadata) for f in files]
    if kind == JSON:
        raw = await request.body()
        body = _validate(BatchRequest, raw)
        if len(body.items) > contract.MAX_BATCH_ITEMS:
            raise too_many_items(len(body.items))
        return [
            ImageUpload(
                _decode_base64(item.image_base64), ImageMetadata(**item.model_dump(exclude={"image_base64"}))
            )
            for item in body.items
        ]
    raise _wrong_body_type(kind)


async def _parts(request: Request) -> list[multipart.Part]:
    # Files beyond MAX_BATCH_ITEMS are counted (422 too_many_items), not refused by the parser.
    try:
        return multipart.parse(
            await request.body(),
            request.headers.get("content-type", ""),
            max_files=contract.MAX_BATCH_ITEMS * 4,
            max_fields=len(METADATA_FIELDS) * 4,
            max_field_bytes=MAX_FIELD_BYTES,
        )
    except multipart.MultipartError as exc:
        raise MalformedBodyError(str(exc)) from None


def _file_data(part: multipart.Part) -> bytes:
    if part.content_type not in GENERIC_BINARY and not part.content_type.startswith("image/"):
        raise UnsupportedMediaError(
            f"part {part.filename or part.name!r} has content type {part.content_type!r}; send an image"
        )
    if len(part.data) > contract.MAX_IMAGE_BYTES:
        raise TooLargeError(image_too_large_message())
    if not part.data:
        raise InvalidImageError("the image file is empty")
    return part.data


def _decode_base64(text: str) -> bytes:
    # 4 base64 characters carry 3 bytes: refuse an over-size image before decoding it.
    if len(text) * 3 // 4 > contract.MAX_IMAGE_BYTES + 3:
        raise TooLargeError(image_too_large_message())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImageError("image_base64 is not valid base64") from None
    if len(data) > contract.MAX_IMAGE_BYTES:
        raise TooLargeError(image_too_large_message())
    if not data:
        raise InvalidImageError("the image is empty")
    return data


def _form_metadata(parts: list[multipart.Part]) -> ImageMetadata:
    """organ, lat and lon from the first plain field of each name (a field that is not UTF-8 text is
    a malformed body: MalformedBodyError)."""
    values: dict[str, str] = {}
    try:
        for part in parts:
            if not part.is_file and part.name in METADATA_FIELDS:
                values.setdefault(part.name, part.text())
    except multipart.MultipartError as exc:
        raise MalformedBodyError(str(exc)) from None
    try:
        fields = MetadataFields.model_validate({k: v for k, v in values.items() if v != ""})
    except ValidationError as exc:
        raise RequestValidationError(_located(exc, "body")) from None
    if (fields.lat is None) != (fields.lon is None):
        missing = "lon" if fields.lon is None else "lat"
        raise _missing(missing, "lat and lon are sent together")
    location = None if fields.lat is None else {"lat": fields.lat, "lon": fields.lon}
    return ImageMetadata(organ=fields.organ, location=location)


def _validate(model: type[ModelT], raw: bytes) -> ModelT:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(_located(exc, "body")) from None


def _located(exc: ValidationError, where: str) -> list[dict[str, object]]:
    return [{"loc": (where, *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def _missing(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "missing"}])


def _wrong_body_type(kind: str) -> UnsupportedMediaError:
    return UnsupportedMediaError(
        f"content type {kind or 'none'!r} is not accepted; send {MULTIPART} or {JSON}"
    )
