"""Kept images are deleted: all of a user's on request (DELETE /consent/data), those of a user who
withdrew ``store_images`` (at once after the change, and by a sweep every
FLORAI_IMAGE_SWEEP_INTERVAL_S that catches any left behind, e.g. an image a request kept while the
withdrawal was being written), and those kept longer than FLORAI_IMAGE_RETENTION_DAYS.

Objects are deleted from the image store first, then their records: a failure in between leaves
records whose objects are gone, and the next attempt deletes those objects again (deleting what is
not there succeeds), so no kept image outlives its deletion by more than one sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from florai.consent import ConsentService, ImageStore
from florai.consent.kept_images import KeptImage, KeptImages
from florai.services.errors import ImageStoreUnavailableError
from florai.storage.clock import utc_now

log = logging.getLogger(__name__)
IMAGE_STORE_RETRY_AFTER_S = 30


@dataclass(frozen=True)
class Erased:
    images_deleted: int
    records_deleted: int


class ImageErasure:
    def __init__(
        self,
        consent: ConsentService,
        store: ImageStore,
        retention_days: int,
        interval_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.consent = consent
        self.kept = KeptImages(consent.db)
        self.store = store
        self.retention = timedelta(days=retention_days)
        self.interval_s = interval_s
        self.clock = clock
        self._wakeup = asyncio.Event()

    def _delete_objects(self, images: Sequence[KeptImage]) -> None:
        for image in images:
            try:
                self.store.delete(image.storage_uri)
            except Exception as exc:
                raise ImageStoreUnavailableError(
                    f"kept images cannot be deleted right now ({type(exc).__name__}); retry later",
                    IMAGE_STORE_RETRY_AFTER_S,
                ) from exc

    def erase_sync(self, user_id: str) -> Erased:
        """Delete every kept image of ``user_id``, then all their image records (audited)."""
        images = self.kept.of_user(user_id)
        self._delete_objects(images)
        return Erased(len(images), self.consent.erase_images(user_id, actor=user_id))

    def sweep_sync(self) -> int:
        """Delete the kept images of users who withdrew consent and those past the retention period;
        returns how many went."""
        done = 0
        for find in (self.kept.withdrawn, lambda: self.kept.expired(self.clock() - self.retention)):
            while images := find():
                self._delete_objects(images)
                done += self.kept.forget([image.record_id for image in images])
        if done:
            log.info("kept images deleted", extra={"images": done})
        return done

    async def erase(self, user_id: str) -> Erased:
        return await asyncio.to_thread(self.erase_sync, user_id)

    def wake(self) -> None:
        """Sweep now (a user withdrew store_images), not at the next interval."""
        self._wakeup.set()

    async def run(self) -> None:
        """Sweep at start, then every ``interval_s`` or when woken, until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.sweep_sync)
            except Exception as exc:  # the database or the store is away: the next sweep retries
                log.warning("kept-image sweep failed", extra={"error": str(exc)})
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.interval_s)
