"""Keep an uploaded image only when its owner consented; count it as kept or discarded either way.

The consent module decides and records (florai.consent.retain_all). Requests hand their image
to a ``RetentionWriter``, which groups what arrives while it writes into one transaction (group
commit: one commit per burst, not per image, as the batcher does for forward passes). The
route awaits its own outcome after the response is sent, so a graceful shutdown still finishes
it. Inference never fails on consent: when the database is down the image is discarded
(nothing is kept without a known consent) and the response still goes out.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from florai.api.runtime import Runtime
from florai.api.uploads import ImageUpload
from florai.consent import ConsentService, ImageStore, Retention, SentImage, retain_all

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
# Most images written in one transaction.
MAX_GROUP = 256


def image_extension(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _SIGNATURES if data.startswith(magic)), "bin")


class RetentionWriter:
    """Group commit of keep-or-discard decisions: one writer, everything queued at once.

    No timer: a lone image is written at once; under load, the images that arrive during one
    write form the next group. A failing group fails each of its images (the caller discards).
    """

    def __init__(self, consent: ConsentService, store: ImageStore, max_group: int = MAX_GROUP) -> None:
        self.consent = consent
        self.store = store
        self.max_group = max_group
        self._queue: list[tuple[SentImage, asyncio.Future[Retention]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, image: SentImage) -> Retention:
        future: asyncio.Future[Retention] = asyncio.get_running_loop().create_future()
        self._queue.append((image, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="retention-writer")
        return await future

    async def _write(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self.max_group], self._queue[self.max_group :]
            try:
                outcomes = await run_in_threadpool(
                    retain_all, self.consent, self.store, [i for i, _ in group]
                )
            except Exception as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)


async def retain_or_discard(runtime: Runtime, principal, task: str, upload: ImageUpload, digest: str) -> bool:
    """True when the image was kept in the model store."""
    if runtime.retention is None:
        return False
    image = SentImage(principal.user_id, task, digest, upload.data, image_extension(upload.data))
    try:
        retention = await runtime.retention.submit(image)
    except Exception as exc:  # consent storage down: the safe outcome is to keep nothing
        log.warning("image discarded: consent unavailable", extra={"task": task, "error": str(exc)})
        return False
    return retention.kept


async def retain_or_discard_all(
    runtime: Runtime, principal, task: str, sent: list[tuple[ImageUpload, str]]
) -> list[bool]:
    """``retain_or_discard`` for each (upload, sha256) at once, so they share one transaction."""
    return list(
        await asyncio.gather(*(retain_or_discard(runtime, principal, task, u, digest) for u, digest in sent))
    )
