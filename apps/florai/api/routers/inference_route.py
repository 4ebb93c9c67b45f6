"""What the three single-image routes share: read, predict, keep-or-discard, answer."""

from __future__ import annotations

from fastapi import BackgroundTasks, Query, Request

from florai.api.dependencies import runtime_of
from florai.api.prediction import Outcome, predict
from florai.api.retention import retain_or_discard
from florai.api.schemas import DEFAULT_TOP_K, MAX_TOP_K, ErrorResponse
from florai.api.uploads import ImageUpload, read_image_upload

TopK = Query(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="how many classes to return")

ERROR_RESPONSES = {status: {"model": ErrorResponse} for status in (401, 404, 413, 415, 422, 429, 503)}


async def run_single(
    request: Request, principal, task: str, k: int, background: BackgroundTasks
) -> tuple[ImageUpload, Outcome]:
    runtime = runtime_of(request)
    upload = await read_image_upload(request)
    outcome = await predict(runtime, task, upload, k)
    # Keep-or-discard runs once the response is sent: the client never waits on the consent
    # database, and a graceful shutdown still finishes it (it is part of the request).
    background.add_task(retain_or_discard, runtime, principal, task, upload, outcome.digest)
    return upload, outcome
