"""Real servers for tests: PostgreSQL and Redis on a free loopback port in a temporary directory.

Each server lives in its own temp dir, listens on 127.0.0.1 only, can be stopped and started
again on the same data dir and port (fault tests), and is always cleaned up (``close()``,
context manager, or an atexit hook as the last resort). ``ManagedProcess`` is the small base
other servers (Prometheus, Alertmanager, ...) reuse: a foreground process in its own session,
a readiness probe with a deadline, and a clear error with the log tail when it fails.

PostgreSQL refuses to run as root: as root, initdb/pg_ctl run as the ``postgres`` system user
(created when missing) through ``runuser``, with the temp dir chowned to it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path


def find_pg_bin() -> Path:
    """PostgreSQL server binaries: $FLORAI_PG_BIN, else the newest Debian/Ubuntu install."""
    if override := os.environ.get("FLORAI_PG_BIN"):
        return Path(override)
    installed = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    # Fall back to the Debian 12 path so a missing install fails with a clear "not found" on it.
    return installed[-1] if installed else Path("/usr/lib/postgresql/15/bin")


PG_BIN = find_pg_bin()
PG_SUPERUSER = "postgres"
PG_OS_USER = "postgres"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 30

_LIVE: weakref.WeakSet = weakref.WeakSet()


class ServerError(RuntimeError):
    """A test server failed to start or stop; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(probe: Callable[[], bool], deadline: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll ``probe`` until it is true (True), the process died or the deadline passed (False)."""
    delay = 0.02
    while time.monotonic() < deadline:
        if probe():
            return True
        if not alive():
            return False
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    return probe()


class ManagedProcess:
    """One foreground server process: started in its own session, probed for readiness, stopped.

    ``ready`` is called repeatedly until it returns True or ``start_timeout`` passes; stdout and
    stderr go to ``log_path`` (appended, so a restart keeps the earlier lines).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        ready: Callable[[], bool],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready = ready
        self.cwd = cwd
        self.env = env
        self.stop_signal = stop_signal
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,  # own process group: stop() reaches every child
            )
        deadline = time.monotonic() + self.start_timeout
        if not wait_until(self.ready, deadline, alive=lambda: self.running):
            code = self.proc.poll()
            self.stop()
            state = f"exited with {code}" if code is not None else f"not ready after {self.start_timeout}s"
            raise ServerError(
                f"{self.name} {state}: {' '.join(self.argv)}\n"
                f"--- {self.log_path} ---\n{log_tail(self.log_path)}"
            )

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


class TempServer:
    """Base of the servers below: a temp dir, a fixed port, stop/start, close, context manager."""

    name = "server"

    def __init__(self, port: int | None = None, base_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"florai-{self.name}-", dir=base_dir))
        self._closed = False
        _LIVE.add(self)

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete its directory; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            _LIVE.discard(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _require_free_port(name: str, port: int) -> None:
    if port_open(port):
        raise ServerError(f"{name}: port {LOOPBACK}:{port} is already in use by another process")


class ProcessServer(TempServer):
    """A TempServer run as one ManagedProcess, which the subclass builds as ``self.process``."""

    process: ManagedProcess

    @property
    def running(self) -> bool:
        return self.process.running

    def start(self) -> None:
        if not self.running:
            _require_free_port(self.name, self.port)
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


def _is_root() -> bool:
    return os.geteuid() == 0


def ensure_os_user(name: str) -> pwd.struct_passwd:
    """The system user ``name``, created (no login, no home) when missing; root only."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


class PostgresServer(TempServer):
    """PostgreSQL (newest installed) with trust auth on 127.0.0.1:``port``; data survives stop()/start()."""

    name = "postgres"

    def __init__(self, port: int | None = None, base_dir: Path | None = None) -> None:
        super().__init__(port, base_dir)
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.log_path = self.dir / "postgres.log"
        self._as_user: list[str] = []
        if _is_root():
            user = ensure_os_user(PG_OS_USER)
            self._as_user = ["runuser", "-u", PG_OS_USER, "--"]
            self.socket_dir.mkdir()
            for path in (self.dir, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        else:
            self.socket_dir.mkdir()
        self._initdb()

    def _run(self, argv: Sequence[str], what: str, timeout: float = START_TIMEOUT_S * 2) -> None:
        result = subprocess.run(
            [*self._as_user, *argv], capture_output=True, text=True, timeout=timeout, cwd=self.dir
        )
        if result.returncode != 0:
            raise ServerError(
                f"postgres {what} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
                f"\n--- {self.log_path} ---\n{log_tail(self.log_path)}"
            )

    def _initdb(self) -> None:
        self._run(
            [
                str(PG_BIN / "initdb"),
                "-D", str(self.data_dir),
                "-U", PG_SUPERUSER,
                "--auth-local=trust",
                "--auth-host=trust",
                "--no-sync",
                "-E", "UTF8",
                "--locale=C",
            ],
            "initdb",
        )  # fmt: skip
        # Only loopback connections are allowed at all (listen_addresses below).
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
        )

    @property
    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists() and port_open(self.port)

    def start(self) -> None:
        if self.running:
            return
        _require_free_port(self.name, self.port)
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={LOOPBACK} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            [
                str(PG_BIN / "pg_ctl"), "start", "-w",
                "-t", str(int(START_TIMEOUT_S)),
                "-D", str(self.data_dir),
                "-l", str(self.log_path),
                "-o", options,
            ],
            "start",
        )  # fmt: skip
        if not wait_until(lambda: port_open(self.port), time.monotonic() + START_TIMEOUT_S):
            raise ServerError(f"postgres not listening on {self.port}\n{log_tail(self.log_path)}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate, as ``pg_ctl stop -m``)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            self._run(
                [str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-t", str(int(STOP_TIMEOUT_S)),
                 "-D", str(self.data_dir)],
                "stop",
            )  # fmt: skip
        except (ServerError, subprocess.TimeoutExpired):
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGKILL)

    def url_for(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``dbname`` on this server."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@{LOOPBACK}:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def dsn_for(self, dbname: str = "postgres") -> str:
        """libpq connection string of ``dbname`` (for psycopg, psql)."""
        return f"host={LOOPBACK} port={self.port} user={PG_SUPERUSER} dbname={dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg  # test dependency; imported here so Redis-only users need not have it

        with psycopg.connect(self.dsn_for("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def createdb(self, dbname: str) -> str:
        """Create database ``dbname`` and return its URL."""
        self._admin(f'CREATE DATABASE "{dbname}"')
        return self.url_for(dbname)

    def dropdb(self, dbname: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def redis_client(port: int, host: str = LOOPBACK):
    """A redis-py client for the server on ``port`` (short timeouts: probes must not hang)."""
    import redis  # the app's own client library; imported here so PostgreSQL-only users need not have it

    return redis.Redis(host=host, port=port, socket_timeout=1.0, socket_connect_timeout=1.0)


def redis_serves(port: int, pid: int | None = None) -> bool:
    """True when a Redis server answers on ``port`` (and, given ``pid``, it is that process)."""
    import redis

    client = redis_client(port)
    try:
        info = client.info("server")
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()
    return pid is None or info.get("process_id") == pid


class RedisServer(ProcessServer):
    """redis-server on 127.0.0.1:``port`` without persistence; stop()/start() reuse the port."""

    name = "redis"

    def __init__(self, port: int | None = None, base_dir: Path | None = None) -> None:
        super().__init__(port, base_dir)
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerError("redis-server not found: apt-get update && apt-get install -y redis-server")
        argv = [binary, "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.dir), "--daemonize", "no", "--protected-mode", "yes"]
        self.process = ManagedProcess("redis-server", argv, self.dir / "redis.log", self._ready, cwd=self.dir)

    def _ready(self) -> bool:
        # Our own process must answer: another server on the same port does not count.
        proc = self.process.proc
        return proc is not None and redis_serves(self.port, proc.pid)

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"


@atexit.register
def _close_all() -> None:
    # Last resort for servers a test forgot to close: never leave a process behind.
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.close()
