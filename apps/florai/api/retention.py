"""Keep an uploaded image only when its owner consented; count it as kept or discarded either way.

Inference never waits on consent: when the database is down the image is discarded
(nothing is kept without a known consent) and the request still succeeds.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from florai.api.runtime import Runtime
from florai.api.uploads import ImageUpload
from florai.metrics import IMAGES_RETAINED

log = logging.getLogger(__name__)


async def retain_or_discard(runtime: Runtime, principal, task: str, upload: ImageUpload, digest: str) -> bool:
    """True when the image was kept in the model store."""
    if runtime.consent is None:
        return False
    try:
        kept = await run_in_threadpool(
            runtime.consent.record_image, principal.user_id, task, upload.data, digest
        )
    except Exception as exc:  # consent storage down: the safe outcome is to keep nothing
        log.warning("image discarded: consent unavailable", extra={"task": task, "error": str(exc)})
        return False
    if kept:
        IMAGES_RETAINED.labels(task=task).inc()
    return bool(kept)
