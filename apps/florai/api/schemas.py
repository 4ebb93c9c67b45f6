"""Pydantic models for every request and response of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from florai import contract

DEFAULT_TOP_K = contract.DEFAULT_TOP_K
MAX_TOP_K = contract.MAX_TOP_K


class Organ(StrEnum):
    leaf = "leaf"
    flower = "flower"
    fruit = "fruit"
    bark = "bark"
    whole = "whole"
    unknown = "unknown"


class CacheStatus(StrEnum):
    hit = "hit"
    miss = "miss"


class Location(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ImageMetadata(BaseModel):
    """Optional context a client sends with a photo."""

    location: Location | None = None
    organ: Organ = Organ.unknown


class ImageBase64Request(ImageMetadata):
    """JSON upload: the image bytes base64-encoded, plus the optional metadata."""

    model_config = ConfigDict(extra="forbid")
    image_base64: str = Field(min_length=1, description="the image file, base64-encoded")


class BatchItem(ImageMetadata):
    model_config = ConfigDict(extra="forbid")
    image_base64: str = Field(min_length=1)


class BatchRequest(BaseModel):
    """JSON batch: up to contract.MAX_BATCH_ITEMS images for the task named in the query."""

    model_config = ConfigDict(extra="forbid")
    items: list[BatchItem] = Field(min_length=1)


class ModelRef(BaseModel):
    name: str
    version: str


class Prediction(BaseModel):
    id: str = Field(description="label id (species, disease or growth-stage id)")
    name: str
    confidence: float = Field(ge=0, le=1)


class PredictionResponse(BaseModel):
    task: str
    predictions: list[Prediction]
    model: ModelRef
    cache: CacheStatus
    image_sha256: str
    organ: Organ = Organ.unknown
    location: Location | None = None


class DiagnosisResponse(PredictionResponse):
    heatmap_png_base64: str | None = Field(
        None, description="Grad-CAM overlay of the top class (PNG, base64); only with explain=true"
    )
    explained_label: str | None = None


class ItemError(BaseModel):
    status: int
    code: str
    detail: str


class BatchResult(BaseModel):
    index: int
    result: PredictionResponse | None = None
    error: ItemError | None = None


class BatchResponse(BaseModel):
    task: str
    results: list[BatchResult]


class ErrorResponse(BaseModel):
    detail: object
    code: str


class Species(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str


class Disease(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str


class GrowthStages(BaseModel):
    model_config = ConfigDict(extra="allow")
    plant_type: str
    stages: list[dict[str, object]]


class ConsentUpdate(BaseModel):
    """A PUT /consent body: the settings to change; unset fields keep their value."""

    model_config = ConfigDict(extra="forbid")
    store_images: bool | None = Field(None, description="keep my images in the model store")
    allow_training: bool | None = Field(None, description="my kept images may be used to train models")
    expected_version: int | None = Field(
        None, ge=0, description="refuse the change (409) unless the settings are still at this version"
    )


class ConsentResponse(BaseModel):
    user_id: str
    store_images: bool
    allow_training: bool
    version: int = Field(description="0 until the user first changes a setting")
    updated_at: datetime | None = None


class AuditEntry(BaseModel):
    id: int
    actor: str = Field(description="who made the change (user id of the caller)")
    changed_at: datetime
    field: str
    old_value: bool | None
    new_value: bool | None


class AuditResponse(BaseModel):
    user_id: str
    entries: list[AuditEntry] = Field(description="newest first")


class ErasureResponse(BaseModel):
    user_id: str
    images_deleted: int = Field(description="kept images deleted from the image store")
    records_deleted: int = Field(description="records of sent images deleted (kept or discarded)")


class TaskUsage(BaseModel):
    kept: int
    discarded: int
    used_for_training: int


class UsageResponse(BaseModel):
    user_id: str
    kept: int
    discarded: int
    used_for_training: int
    by_task: dict[str, TaskUsage]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    not_ready: list[str] = Field(default_factory=list)
