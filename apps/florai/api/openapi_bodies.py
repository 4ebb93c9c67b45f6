"""OpenAPI request bodies for the upload routes, which read the body themselves (multipart or JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from florai.api.schemas import BatchRequest, ImageBase64Request, Organ

REF_TEMPLATE = "#/components/schemas/{model}"
# Schemas referenced only from these hand-written bodies; create_app merges them into components.
EXTRA_COMPONENTS: dict[str, Any] = {}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    EXTRA_COMPONENTS.update(schema.pop("$defs", {}))
    EXTRA_COMPONENTS[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


_METADATA_FIELDS = {
    "organ": {"type": "string", "enum": [o.value for o in Organ], "default": Organ.unknown.value},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
}


def image_upload_body() -> dict[str, Any]:
    multipart = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, **_METADATA_FIELDS},
    }
    return _body(multipart, _schema(ImageBase64Request))


def batch_upload_body() -> dict[str, Any]:
    multipart = {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            **_METADATA_FIELDS,
        },
    }
    return _body(multipart, _schema(BatchRequest))


def _body(multipart: dict[str, Any], json_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": multipart},
                "application/json": {"schema": json_schema},
            },
        }
    }
