"""Keep an image only when its owner consented; record the usage row either way."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from florai.consent.image_store import ImageStore
from florai.consent.service import ConsentService
from florai.metrics import IMAGES_RETAINED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    record_id: int
    kept: bool
    storage_uri: str | None


def retain_if_consented(
    consent: ConsentService,
    store: ImageStore,
    *,
    user_id: str,
    task: str,
    sha256: str,
    data: bytes,
    ext: str,
) -> Retention:
    """Store the image if ``store_images`` is on for the user, then record it (kept or discarded).

    A failing store write does not fail the request: the image is recorded as discarded and the
    error logged. If recording fails after a write, the stored object is deleted again, so no
    image is kept without its record. Database errors (DatabaseUnavailable) propagate.
    """
    settings = consent.get(user_id)
    uri = None
    if settings.store_images:
        try:
            uri = store.put(user_id, sha256, data, ext)
        except Exception:
            log.exception("image store write failed; image discarded", extra={"user_id": user_id})
    try:
        record_id = consent.record_image(
            user_id, task, sha256, kept=uri is not None, storage_uri=uri,
            used_for_training=settings.allow_training,
        )  # fmt: skip
    except BaseException:
        if uri is not None:
            store.delete(uri)
        raise
    if uri is not None:
        IMAGES_RETAINED.labels(task=task).inc()
    return Retention(record_id=record_id, kept=uri is not None, storage_uri=uri)
