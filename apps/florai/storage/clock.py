"""Where timestamps come from: an injectable clock (tests pass a fixed one for deterministic rows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
