"""POST /batch: up to contract.MAX_BATCH_ITEMS images for one task; each item succeeds or fails alone."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, BackgroundTasks, Query, Request

from florai.api.dependencies import CallerDep, runtime_of
from florai.api.errors import ApiError
from florai.api.openapi_bodies import batch_upload_body
from florai.api.prediction import loaded_model, predict
from florai.api.retention import retain_or_discard_all
from florai.api.routers.inference_route import ERROR_RESPONSES, TopK
from florai.api.schemas import BatchResponse, BatchResult, ItemError
from florai.api.uploads import ImageUpload, read_batch_upload

router = APIRouter(tags=["batch"], responses=ERROR_RESPONSES)


@router.post("/batch", response_model=BatchResponse, openapi_extra=batch_upload_body())
async def batch(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    task: str = Query(description="identify, diagnose or growth-stage (served by this deployment)"),
    k: int = TopK,
) -> BatchResponse:
    runtime = runtime_of(request)
    if task not in runtime.settings.tasks:
        raise ApiError(
            422,
            "unknown_task",
            f"task {task!r} is not served here; choose from {list(runtime.settings.tasks)}",
        )
    loaded_model(runtime, task)  # the whole batch is refused, not each item
    uploads = await read_batch_upload(request)

    async def one(index: int, upload: ImageUpload) -> BatchResult:
        try:
            outcome = await predict(runtime, task, upload, k)
        except ApiError as exc:
            return BatchResult(
                index=index, error=ItemError(status=exc.status_code, code=exc.code, detail=str(exc.detail))
            )
        sent.append((upload, outcome.digest))
        return BatchResult(index=index, result=outcome.response)

    sent: list[tuple[ImageUpload, str]] = []
    # All items are submitted at once so the batcher can run them as one forward pass.
    results = await asyncio.gather(*(one(i, u) for i, u in enumerate(uploads)))
    # After the response, all of them together: one group for the retention writer.
    background.add_task(retain_or_discard_all, runtime, principal, task, sent)
    return BatchResponse(task=task, results=list(results))
