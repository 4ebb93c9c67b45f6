"""Builds the runtime's shared services from the settings: cache, rate limiter, authentication, consent.

Each one is the storage/security engineers' module; this file only picks the backend the
settings ask for (Redis when REDIS_URL is set, in-process otherwise) and adapts call shapes.
"""

from __future__ import annotations

import logging

from florai.api.runtime import Runtime
from florai.inference.runtime import available_cpus
from florai.settings import Settings

log = logging.getLogger(__name__)


def decode_threads(settings: Settings) -> int:
    """Decode/preprocess threads: FLORAI_DECODE_THREADS, else the container's CPU limit."""
    return settings.decode_threads or available_cpus()


def build_runtime_services(runtime: Runtime) -> None:
    """Blocking set-up (database, Redis clients); run it in a thread from the lifespan."""
    raise NotImplementedError("wired when the security, cache and consent modules land")
