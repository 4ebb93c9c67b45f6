"""The consent routes' core: the caller's own settings, audit and usage, their changes, and the
erasure of their images. The user is always the authenticated principal's; nothing here takes
another user's id from a request.

A withdrawal of ``store_images`` wakes the kept-image sweep (florai.services.erasure), which deletes
the images kept so far. Storage failures become domain errors (florai.services.errors).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TypeVar

from florai.consent import AuditEntry, ConsentService, ConsentSettings, Usage
from florai.consent import service as consent_service
from florai.consent.settings import STORE_IMAGES
from florai.services.erasure import Erased, ImageErasure
from florai.services.errors import ConsentConflictError, InvalidConsentError, StorageUnavailableError
from florai.storage import DatabaseUnavailable

T = TypeVar("T")
# Seconds a client should wait before retrying while the database is away.
DATABASE_RETRY_AFTER_S = 5


async def _call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except DatabaseUnavailable:
        raise StorageUnavailableError(
            "consent storage is unavailable; retry shortly", DATABASE_RETRY_AFTER_S
        ) from None
    except consent_service.ConsentConflictError as exc:
        raise ConsentConflictError(str(exc)) from None
    except consent_service.ConsentError as exc:
        raise InvalidConsentError(str(exc)) from None


class ConsentAccess:
    def __init__(self, consent: ConsentService, erasure: ImageErasure) -> None:
        self.consent = consent
        self.erasure = erasure

    async def get(self, user_id: str) -> ConsentSettings:
        return await _call(self.consent.get, user_id)

    async def update(
        self, user_id: str, changes: Mapping[str, object], expected_version: int | None
    ) -> ConsentSettings:
        settings = await _call(
            self.consent.update, user_id, user_id, changes, expected_version=expected_version
        )
        if changes.get(STORE_IMAGES) is False:
            self.erasure.wake()
        return settings

    async def audit(self, user_id: str, limit: int, before_id: int | None) -> list[AuditEntry]:
        return await _call(self.consent.audit, user_id, limit=limit, before_id=before_id)

    async def usage(self, user_id: str) -> Usage:
        return await _call(self.consent.usage, user_id)

    async def erase(self, user_id: str) -> Erased:
        """Delete the caller's kept images and all their image records (audited)."""
        return await _call(self.erasure.erase_sync, user_id)
