"""Database access: one synchronous SQLAlchemy engine per process, sessions as context managers.

Synchronous on purpose: SQLite (embedded mode) has no real async driver, and the consent
endpoints are few and short. Async callers run these calls in a thread pool
(``await run_in_threadpool(service.get, user)``) or declare the endpoint with plain ``def``.

Connection loss and a stopped server surface as ``DatabaseUnavailable`` (the API answers 503);
the pool pre-pings connections, so the first request after the server comes back succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# Seconds to wait for a new connection (PostgreSQL) or for a lock (SQLite busy timeout).
CONNECT_TIMEOUT_S = 3
PING_TIMEOUT_S = 2
SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLite commit flush levels (WAL mode): every commit reaches the disk, unless a transaction is
# marked not durable (Database.transaction), which skips the flush (the WAL stays consistent).
SQLITE_SYNCHRONOUS = "FULL"
SQLITE_RELAXED_SYNCHRONOUS = "NORMAL"


class DatabaseUnavailable(RuntimeError):  # noqa: N818 (the name the API contract uses)
    """The database cannot be reached or lost the connection; retry later (HTTP 503)."""


def sqlite_url(data_dir: Path, filename: str = "florai.db") -> str:
    return f"sqlite:///{(Path(data_dir) / filename).resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside one writer; SQLite enforces foreign keys only when asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_synchronous(connection: Connection, level: str) -> None:
    """Set SQLite's commit flush level on this connection; only between transactions (SQLite
    refuses it inside one), so it goes to the driver, which opens no transaction for a PRAGMA."""
    connection.connection.driver_connection.execute(f"PRAGMA synchronous={level}")


def engine_for(url: str) -> Engine:
    """An engine for a sqlite:// or postgresql:// URL with this app's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": CONNECT_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the one driver we ship
        return create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            pool_timeout=CONNECT_TIMEOUT_S,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


# Errors meaning "the database is not there right now", as opposed to a bug or bad data.
_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


class Database:
    """The process's database: ``session()`` for work, ``ping()`` for readiness, ``dispose()``."""

    def __init__(self, url: str | Engine) -> None:
        self.engine = engine_for(url) if isinstance(url, str) else url
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"database unavailable: {_reason(error)}") from error

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Connection]:
        """One Core transaction (no ORM unit of work): for hot paths that run a few fixed statements.
        Committed when the block ends, rolled back on any error; same errors as ``session``.

        ``durable=False`` is for records whose last few commits may be lost on a power failure or
        an operating-system crash (never on an application crash, never corrupted), on the
        embedded SQLite database only: the commit does not wait for the disk (``synchronous=NORMAL``
        in WAL mode). Measured on this repository's VM, that flush was the largest part of a
        per-request usage record's cost. On PostgreSQL every commit stays durable (the Multi-AZ
        standby's RPO of 0 holds for all data); consent changes and their audit always are.
        """
        try:
            with self.engine.connect() as connection:
                relaxed_sqlite = not durable and self.dialect == "sqlite"
                if relaxed_sqlite:
                    _sqlite_synchronous(connection, SQLITE_RELAXED_SYNCHRONOUS)
                try:
                    with connection.begin():
                        yield connection
                finally:
                    if relaxed_sqlite:
                        try:
                            _sqlite_synchronous(connection, SQLITE_SYNCHRONOUS)
                        except Exception:  # never pool a connection left at the relaxed level
                            connection.invalidate()
                            raise
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"database unavailable: {_reason(error)}") from error

    def ping(self, timeout: float = PING_TIMEOUT_S) -> bool:
        """True when a ``SELECT 1`` succeeds (the connect timeout bounds the wait)."""
        try:
            with self.engine.connect() as connection:
                if self.dialect == "postgresql":
                    connection.execute(text(f"SET statement_timeout = {int(timeout * 1000)}"))
                connection.execute(text("SELECT 1"))
            return True
        except exc.SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _reason(error: exc.DBAPIError | exc.TimeoutError) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
