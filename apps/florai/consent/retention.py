"""Keep an image only when its owner consented; record the usage row either way."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from florai.consent.image_store import ImageStore
from florai.consent.service import ConsentService, ImageUse
from florai.metrics import IMAGES_RETAINED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    record_id: int
    kept: bool
    storage_uri: str | None


@dataclass(frozen=True)
class SentImage:
    """An image a user sent for inference, waiting for its keep-or-discard decision."""

    user_id: str
    task: str
    sha256: str
    data: bytes
    ext: str


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
    """``retain_all`` for one image."""
    return retain_all(consent, store, [SentImage(user_id, task, sha256, data, ext)])[0]


def retain_all(consent: ConsentService, store: ImageStore, images: Sequence[SentImage]) -> list[Retention]:
    """Store each image whose owner has ``store_images`` on, then record them all (kept or discarded).

    Settings are read in one query and the records written in one transaction, so a burst of
    uploads costs one commit; when no owner keeps images (the common case), the read and the
    records share that one transaction. A failing store write does not fail its request: that image is
    recorded as discarded and the error logged. If recording fails after writes, the stored
    objects are deleted again, so no image is kept without its record. Database errors
    (DatabaseUnavailable) propagate.
    """
    if not images:
        return []
    discarded = [ImageUse(image.user_id, image.task, image.sha256, kept=False) for image in images]
    settings, record_ids = consent.settings_or_record_discarded(discarded)
    if record_ids is not None:  # no owner keeps images: read and recorded in one transaction
        return [Retention(record_id=record_id, kept=False, storage_uri=None) for record_id in record_ids]
    uses = []
    for image in images:
        wanted = settings[image.user_id]
        uri = None
        if wanted.store_images:
            try:
                uri = store.put(image.user_id, image.sha256, image.data, image.ext)
            except Exception:
                log.exception("image store write failed; image discarded", extra={"user_id": image.user_id})
        uses.append(
            ImageUse(
                image.user_id,
                image.task,
                image.sha256,
                kept=uri is not None,
                storage_uri=uri,
                used_for_training=wanted.allow_training,
            )  # fmt: skip
        )
    try:
        record_ids = consent.record_images(uses)
    except BaseException:
        for use in uses:
            if use.storage_uri is not None:
                store.delete(use.storage_uri)
        raise
    for use in uses:
        if use.kept:
            IMAGES_RETAINED.labels(task=use.task).inc()
    return [
        Retention(record_id=record_id, kept=use.kept, storage_uri=use.storage_uri)
        for record_id, use in zip(record_ids, uses, strict=True)
    ]
