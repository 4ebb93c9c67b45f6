"""What ``python -m florai`` checks before any slow work (models load for tens of seconds): each
problem a user can fix is one line that says what to fix, never a traceback.

- the port: bound here, before the models load (and handed to uvicorn, which listens on it once
  the service is ready);
- the models: a local model folder that does not exist means ``make models`` was not run;
- the database: DATABASE_URL must answer (its password is never shown).
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from florai.models.s3 import is_s3_uri
from florai.settings import Settings, mask_credentials
from florai.storage.database import engine_for


class StartupError(Exception):
    """A problem the user can fix; the message is one line saying what to do."""


def bind_port(settings: Settings) -> socket.socket:
    """A socket bound to HOST:PORT (not listening yet); StartupError when the port is taken."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            where = f"port {settings.port} on {settings.host}"
            raise StartupError(f"{where} is already in use: stop the other server or set PORT") from None
        raise StartupError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}): check HOST and PORT"
        ) from None
    return sock


def check_models(settings: Settings) -> None:
    """StartupError naming ``make models`` when a task's local model folder does not exist."""
    for task in settings.tasks:
        uri = settings.model_uri(task)
        if not is_s3_uri(uri) and not Path(uri).is_dir():
            raise StartupError(
                f"no {task} model at {uri}: run `make models` (or point FLORAI_MODELS_DIR at your models)"
            )


def check_database(settings: Settings) -> None:
    """StartupError naming DATABASE_URL (password masked) when the database does not answer."""
    if settings.database_url is None:
        return  # embedded SQLite under the data folder: created on first use
    shown = mask_credentials(settings.database_url)
    try:
        engine = engine_for(settings.database_url)
    except Exception as exc:  # a URL the driver refuses; its message may quote the URL
        raise StartupError(f"DATABASE_URL {shown} cannot be used ({type(exc).__name__})") from None
    try:
        with engine.connect():
            pass
    except Exception as exc:
        reason = mask_credentials(
            str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else ""
        )
        raise StartupError(
            f"DATABASE_URL {shown} is unreachable ({reason or type(exc).__name__}): check the host, port"
            " and credentials, and that PostgreSQL is running"
        ) from None
    finally:
        engine.dispose()


def preflight(settings: Settings) -> socket.socket:
    """Every check, fastest first; returns the bound socket for uvicorn."""
    sock = bind_port(settings)
    try:
        check_models(settings)
        check_database(settings)
    except BaseException:
        sock.close()
        raise
    return sock
