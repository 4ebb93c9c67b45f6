"""``python -m florai``: the service under uvicorn, one process (the batcher needs one; scale with pods).

SIGTERM (uvicorn's handler) stops accepting connections, lets in-flight requests finish,
then the app's lifespan drains the batchers; the process exits 0.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import uvicorn

from florai.observability import configure_logging, uvicorn_log_config
from florai.settings import SettingsError, load_settings


def _drained(signum: int, frame: FrameType | None) -> None:
    """SIGTERM after uvicorn's shutdown finished: nothing left to do."""


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"florai: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    from florai.api import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        lifespan="on",
        log_config=uvicorn_log_config(settings.log_level),
        timeout_graceful_shutdown=int(settings.drain_timeout_s) + 1,
        proxy_headers=True,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown; with this handler
    # restored by then, a drained shutdown ends in exit status 0 (what Kubernetes expects).
    signal.signal(signal.SIGTERM, _drained)
    server.run()
    # uvicorn sets started=False only when start-up (for instance the lifespan) failed.
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
