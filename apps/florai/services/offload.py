"""Blocking calls from the event loop: in a thread only when they wait on the network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def off_loop_if_blocking(backend: Any, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a thread when ``backend.blocking`` (it waits on the network, e.g. Redis), else
    on the loop: an in-process backend is a dictionary under a lock, cheaper than the thread hop."""
    if getattr(backend, "blocking", True):
        return await asyncio.to_thread(fn, *args)
    return fn(*args)
