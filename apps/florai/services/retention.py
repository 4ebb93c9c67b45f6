"""Keep an uploaded image only when its owner consented; count it as kept or discarded either way.

The consent module decides and records (florai.consent.retain_all). Requests hand their images
to a ``RetentionWriter``, which groups what arrives while it writes into one transaction (group
commit: one commit per burst, not per image, as the batcher does for forward passes). The
route awaits its own outcome after the response is sent, so a graceful shutdown still finishes
it. Inference never fails on consent: when the database is down the image is discarded
(nothing is kept without a known consent) and the response still goes out.

A group holds several users' images; when its transaction fails for another reason than an
unreachable database (one user's record the database refuses), each user's images are written
again in a transaction of their own, so only the user whose record failed loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from florai.consent import ConsentService, ImageStore, Retention, SentImage, retain_all
from florai.security.principal import user_id_problem
from florai.storage import DatabaseUnavailable

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
    write form the next group. A group that fails is written again user by user (only the failing
    user's images fail); an unreachable database fails the whole group (the caller discards).
    """

    def __init__(self, consent: ConsentService, store: ImageStore, max_group: int = MAX_GROUP) -> None:
        self.consent = consent
        self.store = store
        self.max_group = max_group
        self._queue: list[tuple[SentImage, asyncio.Future[Retention]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, image: SentImage) -> Retention:
        problem = user_id_problem(image.user_id)
        if problem is not None:  # refused before it can share (and spoil) a transaction with others
            raise ValueError(f"user id {problem}")
        future: asyncio.Future[Retention] = asyncio.get_running_loop().create_future()
        self._queue.append((image, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="retention-writer")
        return await future

    async def _write(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self.max_group], self._queue[self.max_group :]
            await self._write_group(group)

    async def _write_group(self, group: list[tuple[SentImage, asyncio.Future[Retention]]]) -> None:
        try:
            outcomes = await asyncio.to_thread(retain_all, self.consent, self.store, [i for i, _ in group])
        except Exception as exc:
            owners = sorted({image.user_id for image, _ in group})
            if len(owners) > 1 and not isinstance(exc, DatabaseUnavailable):
                log.warning(
                    "retention group failed; writing each user's images apart", extra={"error": str(exc)}
                )
                for owner in owners:
                    await self._write_group([entry for entry in group if entry[0].user_id == owner])
                return
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def keep_or_discard(self, user_id: str, task: str, sent: Sequence[tuple[bytes, str]]) -> list[bool]:
        """For each (upload, sha256): True when the image was kept in the model store. All of them at
        once, so they share one transaction; never raises (an image whose decision fails is not kept)."""
        return list(await asyncio.gather(*(self._keep_or_discard(user_id, task, d, h) for d, h in sent)))

    async def _keep_or_discard(self, user_id: str, task: str, data: bytes, digest: str) -> bool:
        try:
            retention = await self.submit(SentImage(user_id, task, digest, data, image_extension(data)))
        except Exception as exc:  # consent storage down: the safe outcome is to keep nothing
            log.warning("image discarded: consent unavailable", extra={"task": task, "error": str(exc)})
            return False
        return retention.kept
