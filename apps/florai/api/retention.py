"""Keep an uploaded image only when its owner consented; count it as kept or discarded either way.

The consent module decides and records (florai.consent.retain_if_consented). Inference never
fails on consent: when the database is down the image is discarded (nothing is kept without
a known consent) and the response still goes out.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from florai.api.runtime import Runtime
from florai.api.uploads import ImageUpload
from florai.consent import retain_if_consented

log = logging.getLogger(__name__)

# File signatures of the formats the decoder accepts -> extension of the stored object.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
)


def image_extension(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _SIGNATURES if data.startswith(magic)), "bin")


async def retain_or_discard(runtime: Runtime, principal, task: str, upload: ImageUpload, digest: str) -> bool:
    """True when the image was kept in the model store."""
    if runtime.consent is None or runtime.image_store is None:
        return False
    try:
        retention = await run_in_threadpool(
            retain_if_consented,
            runtime.consent,
            runtime.image_store,
            user_id=principal.user_id,
            task=task,
            sha256=digest,
            data=upload.data,
            ext=image_extension(upload.data),
        )
    except Exception as exc:  # consent storage down: the safe outcome is to keep nothing
        log.warning("image discarded: consent unavailable", extra={"task": task, "error": str(exc)})
        return False
    return retention.kept
