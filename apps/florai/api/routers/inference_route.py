"""What the inference routes share: the k parameter, their error responses, and the request flow:
read the upload, charge the caller for it, predict (or explain), keep-or-discard after the response."""

from __future__ import annotations

from fastapi import BackgroundTasks, Query, Request

from florai.api.dependencies import runtime_of
from florai.api.errors import responses_for
from florai.api.schemas import DEFAULT_TOP_K, MAX_TOP_K, ModelRef, Prediction, PredictionResponse
from florai.api.uploads import ImageMetadata, read_image_upload
from florai.security import Principal
from florai.services import errors
from florai.services.prediction import Prediction as DomainPrediction

TopK = Query(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="how many classes to return")

# Every refusal an upload route can answer; /batch adds its own (florai.api.routers.batch).
UPLOAD_ERRORS = (
    errors.MalformedBodyError,
    errors.UnauthenticatedError,
    errors.TooLargeError,
    errors.UnsupportedMediaError,
    errors.InvalidImageError,
    errors.RateLimitedError,
    errors.QueueFullError,
    errors.ModelUnavailableError,
    errors.InferenceFailedError,
    errors.StorageUnavailableError,
)
UPLOAD_RESPONSES = responses_for(*UPLOAD_ERRORS)
# The catalogue lookups beside them.
LOOKUP_RESPONSES = responses_for(
    errors.UnauthenticatedError,
    errors.NotFoundError,
    errors.RateLimitedError,
    errors.StorageUnavailableError,
    errors.TooLargeError,
)


def prediction_response(prediction: DomainPrediction, metadata: ImageMetadata) -> PredictionResponse:
    return PredictionResponse(
        task=prediction.task,
        predictions=[Prediction(id=p.id, name=p.name, confidence=p.confidence) for p in prediction.top],
        model=ModelRef(name=prediction.model_name, version=prediction.model_version),
        cache="hit" if prediction.cached else "miss",
        image_sha256=prediction.image_sha256,
        organ=metadata.organ,
        location=metadata.location,
    )


async def run_single(
    request: Request,
    principal: Principal,
    task: str,
    k: int,
    background: BackgroundTasks,
    explain: bool = False,
) -> tuple[PredictionResponse, bytes | None]:
    """The response for one uploaded image, and the overlay PNG when ``explain``."""
    runtime = runtime_of(request)
    service = runtime.predictions
    service.engine(task)  # a task that is not loaded here is refused before its body is read
    upload = await read_image_upload(request)
    await service.charge(principal, [upload.data])
    overlay = None
    if explain:
        explained = await service.explain(principal, task, upload.data, k)
        prediction, overlay = explained.prediction, explained.overlay_png
    else:
        prediction = await service.predict(principal, task, upload.data, k)
    if runtime.retention is not None:
        # Keep-or-discard runs once the response is sent: the client never waits on the consent
        # database, and a graceful shutdown still finishes it (it is part of the request).
        sent = [(upload.data, prediction.image_sha256)]
        background.add_task(runtime.retention.keep_or_discard, principal.user_id, task, sent)
    return prediction_response(prediction, upload.metadata), overlay
