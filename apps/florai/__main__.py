"""``python -m florai``: the service under uvicorn, one process (the batcher needs one; scale with pods).

Before anything slow, the settings, the port, the models and the database are checked; a problem is
one line on stderr that says what to fix (exit status 2). SIGTERM drains (florai.server); a drained
shutdown exits 0.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from florai.observability import configure_logging
from florai.settings import SettingsError, load_settings
from florai.startup import StartupError, preflight


def _drained(signum: int, frame: FrameType | None) -> None:
    """A signal uvicorn re-raises after its graceful shutdown: nothing left to do."""


def main() -> int:
    try:
        settings = load_settings()
        sock = preflight(settings)
    except (SettingsError, StartupError) as exc:
        print(f"florai: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    from florai.api import create_app
    from florai.server import Server, uvicorn_config

    app = create_app(settings)
    server = Server(uvicorn_config(app, settings), app, settings, sock)
    # uvicorn re-raises a captured SIGTERM/SIGINT after its graceful shutdown; with this handler
    # in place by then, a drained shutdown ends in exit status 0 (what Kubernetes expects).
    signal.signal(signal.SIGTERM, _drained)
    server.run(sockets=[sock])
    # uvicorn sets started=False only when start-up (for instance the lifespan) failed.
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
