"""The request bodies of the upload routes, declared as Pydantic models, one per media type.

The routes read their bodies themselves (the multipart parser in florai.api.multipart is ten times
cheaper than a streaming form parser), so FastAPI cannot infer them from the handler's signature;
each route declares them with ``request_body(form=..., json=...)`` and FastAPI puts the models'
own JSON schemas into the OpenAPI document. The JSON models also validate the JSON bodies, and
``MetadataFields`` the multipart fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from florai import contract
from florai.api.schemas import BatchRequest, ImageBase64Request, Organ

REF_TEMPLATE = "#/components/schemas/{model}"
# Schemas the bodies refer to; create_app adds them to the document's components.
COMPONENTS: dict[str, Any] = {}
# A file part of a multipart body, as OpenAPI describes one.
FilePart = Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


class MetadataFields(BaseModel):
    """The optional plain fields of a multipart upload (lat and lon go together)."""

    model_config = ConfigDict(extra="forbid")
    organ: Organ = Organ.unknown
    lat: float | None = Field(None, ge=-90, le=90, description="latitude, with lon")
    lon: float | None = Field(None, ge=-180, le=180, description="longitude, with lat")


class ImageForm(MetadataFields):
    """multipart/form-data: the image as part ``file``, and the optional fields."""

    file: FilePart = Field(
        description=f"the image (JPEG, PNG or WebP; at most {contract.MAX_IMAGE_BYTES} bytes)"
    )


class BatchForm(MetadataFields):
    """multipart/form-data: the images as parts named ``files``, and the optional fields (for all)."""

    files: list[FilePart] = Field(min_length=1, max_length=contract.MAX_BATCH_ITEMS)


def _schema_ref(model: type[BaseModel]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    COMPONENTS.update(schema.pop("$defs", {}))
    COMPONENTS[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def request_body(form: type[BaseModel], json: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route that takes ``form`` as multipart/form-data or ``json`` as JSON."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": _schema_ref(form)},
                "application/json": {"schema": _schema_ref(json)},
            },
        }
    }


IMAGE_BODY = request_body(ImageForm, ImageBase64Request)
BATCH_BODY = request_body(BatchForm, BatchRequest)
