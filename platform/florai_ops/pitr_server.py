"""PostgreSQL servers for the restore drill: a primary that archives its WAL, and a server restored from a
base backup plus that archive to a point in time (the same mechanism RDS point-in-time restore uses).

Both extend the test kit's PostgresServer (temp dir, loopback port, runs as the ``postgres`` user
when root) through its ``_initdb`` hook, so start/stop/close behave exactly as in the test suite.
"""

from __future__ import annotations

import os
from pathlib import Path

from florai_testkit.servers import LOOPBACK, PG_BIN, PG_OS_USER, PG_SUPERUSER, PostgresServer, ensure_os_user

RECOVERY_SIGNAL = "recovery.signal"


def _quote(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


def _append_conf(path: Path, settings: dict[str, str]) -> None:
    with path.open("a") as conf:
        conf.write("\n# florai_ops drill\n")
        for key, value in settings.items():
            conf.write(f"{key} = {value}\n")


class ArchivingPostgresServer(PostgresServer):
    """A primary with WAL archiving to ``archive_dir`` and commit timestamps (to date every commit)."""

    name = "postgres-primary"

    def _initdb(self) -> None:
        super()._initdb()
        self.archive_dir = self.dir / "wal-archive"
        self.archive_dir.mkdir()
        if self._as_user:
            user = ensure_os_user(PG_OS_USER)
            os.chown(self.archive_dir, user.pw_uid, user.pw_gid)
        archive = str(self.archive_dir)
        _append_conf(
            self.data_dir / "postgresql.conf",
            {
                "wal_level": "replica",
                "archive_mode": "on",
                # Never overwrite a segment already archived (the documented safe form).
                "archive_command": _quote(f'test ! -f "{archive}/%f" && cp "%p" "{archive}/%f"'),
                "track_commit_timestamp": "on",
                "timezone": "'UTC'",
            },
        )

    def base_backup(self, target: Path) -> None:
        """An online base backup (plain format, with the WAL it needs) into ``target``."""
        self._run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h", LOOPBACK, "-p", str(self.port), "-U", PG_SUPERUSER,
                "-D", str(target), "-Fp", "-X", "stream", "-c", "fast", "--no-sync",
            ],
            "pg_basebackup",
        )  # fmt: skip

    def backup_dir(self) -> Path:
        """Where the drill keeps its base backup: beside the archive, owned by the server user."""
        return self.dir / "base-backup"


class RestoredPostgresServer(PostgresServer):
    """A NEW data directory made from a base backup, recovering from the WAL archive up to a target.

    ``target_time`` is exclusive: recovery stops before the first transaction that committed at or
    after it (the disaster itself), then promotes to a new timeline and serves read-write.
    """

    name = "postgres-restored"

    def __init__(self, backup: Path, archive: Path, target_time: str, port: int | None = None) -> None:
        self.backup = backup
        self.archive = archive
        self.target_time = target_time
        super().__init__(port)

    def _initdb(self) -> None:
        # Copied as the server user: the backup and the archive belong to it.
        self._run(["cp", "-a", str(self.backup), str(self.data_dir)], "copy base backup")
        _append_conf(
            self.data_dir / "postgresql.auto.conf",
            {
                "restore_command": _quote(f'cp "{self.archive}/%f" "%p"'),
                "recovery_target_time": _quote(self.target_time),
                "recovery_target_inclusive": "off",
                "recovery_target_action": "'promote'",
                # The restored server must not write into the primary's archive.
                "archive_mode": "off",
            },
        )
        self._run(["touch", str(self.data_dir / RECOVERY_SIGNAL)], "recovery.signal")
