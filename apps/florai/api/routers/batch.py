"""POST /batch: up to contract.MAX_BATCH_ITEMS images for one task; each item succeeds or fails alone."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Query, Request

from florai.api.bodies import BATCH_BODY
from florai.api.dependencies import CallerDep, runtime_of
from florai.api.errors import code_of, responses_for, status_of
from florai.api.routers.inference_route import UPLOAD_ERRORS, TopK, prediction_response
from florai.api.schemas import BatchResponse, BatchResult, ItemError
from florai.api.uploads import read_batch_upload
from florai.services import errors
from florai.services.errors import ServiceError

router = APIRouter(tags=["batch"])


@router.post(
    "/batch",
    response_model=BatchResponse,
    responses=responses_for(*UPLOAD_ERRORS, errors.TooManyItemsError, errors.UnknownTaskError),
    openapi_extra=BATCH_BODY,
)
async def batch(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    task: str = Query(description="identify, diagnose or growth-stage (served by this deployment)"),
    k: int = TopK,
) -> BatchResponse:
    runtime = runtime_of(request)
    service = runtime.predictions
    service.engine(task)  # the whole batch is refused (unknown task, model not loaded), not each item
    uploads = await read_batch_upload(request)
    await service.charge(principal, [u.data for u in uploads])
    # All items are submitted at once so the batcher can run them as one forward pass.
    outcomes = await service.predict_each(principal, task, [u.data for u in uploads], k)
    results = [
        BatchResult(index=i, error=ItemError(status=status_of(o), code=code_of(o), detail=str(o)))
        if isinstance(o, ServiceError)
        else BatchResult(index=i, result=prediction_response(o, upload.metadata))
        for i, (upload, o) in enumerate(zip(uploads, outcomes, strict=True))
    ]
    if runtime.retention is not None:
        # After the response, all of them together: one group for the retention writer.
        sent = [
            (u.data, o.image_sha256)
            for u, o in zip(uploads, outcomes, strict=True)
            if not isinstance(o, ServiceError)
        ]
        background.add_task(runtime.retention.keep_or_discard, principal.user_id, task, sent)
    return BatchResponse(task=task, results=results)
