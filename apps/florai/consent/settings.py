"""Consent values: a user's settings, one audit entry, and their image usage (plain frozen records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

STORE_IMAGES = "store_images"
ALLOW_TRAINING = "allow_training"
# Every consent setting a user controls; all default to False (nothing kept without a yes).
CONSENT_FIELDS = (STORE_IMAGES, ALLOW_TRAINING)


@dataclass(frozen=True)
class ConsentSettings:
    """A user's consent; ``version`` 0 means never set (the defaults apply)."""

    user_id: str
    store_images: bool = False
    allow_training: bool = False
    version: int = 0
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in CONSENT_FIELDS}


@dataclass(frozen=True)
class AuditEntry:
    """One change of one setting: who changed it, when, from what, to what."""

    id: int
    user_id: str
    actor: str
    changed_at: datetime
    field: str
    old_value: bool | None
    new_value: bool | None


@dataclass(frozen=True)
class TaskUsage:
    kept: int = 0
    discarded: int = 0
    used_for_training: int = 0


@dataclass(frozen=True)
class Usage:
    """How many of a user's images were kept, discarded or used for training, in total and by task."""

    user_id: str
    kept: int
    discarded: int
    used_for_training: int
    by_task: dict[str, TaskUsage] = field(default_factory=dict)
