"""The database restore drill, for real: WAL archiving, live consent writes, a base backup, a destructive
statement, then a point-in-time restore into a NEW data directory to just before it; verified and timed.

    python -m florai_ops.drill            # short form (seconds; what tests/dr/test_drill.py runs)
    python -m florai_ops.drill --full     # full form (make drill, the scheduled dr-drill workflow)

RPO is measured as data: changes committed before the disaster that the restored database lacks (must
be 0), and as time: from the last recovered commit to the disaster. RTO is the time from the decision
to restore (the writers are stopped) to a promoted, read-write server answering queries.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg

from florai.storage.migrate import upgrade
from florai_ops.consent_load import Change, ConsentLoad
from florai_ops.pitr_server import ArchivingPostgresServer, RestoredPostgresServer
from florai_testkit.servers import ServerError, wait_until

DRILL_DATABASE = "florai"
# The destructive statement: what a mistaken migration or a hand-typed query would do.
DISASTER_SQL = "DELETE FROM consent_settings"
ARCHIVE_TIMEOUT_S = 30.0
PROMOTE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DrillShape:
    writers: int
    warmup_s: float  # writes before the base backup
    load_s: float  # writes between the base backup and the disaster
    after_s: float  # writes after the disaster (they must NOT come back)


SHORT = DrillShape(writers=3, warmup_s=0.5, load_s=2.0, after_s=0.5)
FULL = DrillShape(writers=8, warmup_s=5.0, load_s=60.0, after_s=5.0)


@dataclass(frozen=True)
class DrillReport:
    shape: DrillShape
    committed_before: int  # changes committed before the disaster
    committed_after: int  # changes committed after it
    lost: tuple[str, ...]  # committed before the disaster, missing after the restore
    resurrected: tuple[str, ...]  # committed after the disaster, present after the restore
    wrong_settings: tuple[str, ...]  # users whose restored settings differ from their last change before
    restored_settings_rows: int
    disaster_at: datetime
    last_recovered_commit: datetime | None
    recovery_target: str
    restore_s: float  # RTO: decision to restore -> promoted server answering
    disaster_to_serving_s: float
    base_backup_s: float

    @property
    def ok(self) -> bool:
        return not (self.lost or self.resurrected or self.wrong_settings) and self.committed_before > 0

    @property
    def rpo_s(self) -> float:
        if self.last_recovered_commit is None:
            return float("inf")
        return (self.disaster_at - self.last_recovered_commit).total_seconds()

    def lines(self) -> list[str]:
        verdict = "PASS" if self.ok else "FAIL"
        return [
            f"drill {verdict}: {self.shape.writers} writers, {self.committed_before} consent changes "
            f"committed before the disaster, {self.committed_after} after it",
            f"disaster: {DISASTER_SQL!r} committed at {self.disaster_at.isoformat()}",
            f"recovery target (exclusive): {self.recovery_target}",
            f"RPO data: {len(self.lost)} committed changes lost; {len(self.resurrected)} later changes "
            f"wrongly restored; {len(self.wrong_settings)} users with wrong settings; "
            f"{self.restored_settings_rows} settings rows back",
            f"RPO time: {self.rpo_s * 1000:.1f} ms between the last recovered commit and the disaster",
            f"RTO: {self.restore_s:.2f} s from the decision to restore to a serving database "
            f"({self.disaster_to_serving_s:.2f} s after the disaster); "
            f"base backup took {self.base_backup_s:.2f} s",
        ]


def _disaster(dsn: str) -> tuple[datetime, str]:
    """Run the destructive statement; return its commit time and that time as a recovery target."""
    with psycopg.connect(dsn) as conn:
        conn.execute(DISASTER_SQL)
        xid = conn.execute("SELECT txid_current()").fetchone()[0]
        conn.commit()
        row = conn.execute(
            "SELECT ts, ts::text FROM (SELECT pg_xact_commit_timestamp(%s::text::xid) AS ts) t", (str(xid),)
        ).fetchone()
    return row[0], row[1]


def _archive_current_wal(dsn: str) -> None:
    """Close the current WAL segment and wait until the archiver copied it (the disaster is in it)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]

        def archived() -> bool:
            last = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0]
            return last is not None and last >= segment

        if not wait_until(archived, time.monotonic() + ARCHIVE_TIMEOUT_S):
            raise ServerError(f"WAL segment {segment} not archived within {ARCHIVE_TIMEOUT_S}s")


def _wait_promoted(dsn: str) -> None:
    def promoted() -> bool:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
                return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]
        except psycopg.OperationalError:
            return False

    if not wait_until(promoted, time.monotonic() + PROMOTE_TIMEOUT_S):
        raise ServerError(f"restored server not promoted within {PROMOTE_TIMEOUT_S}s")


def _restored_state(dsn: str) -> tuple[set[str], dict[str, bool]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        actors = {r[0] for r in conn.execute("SELECT actor FROM consent_audit WHERE actor LIKE 'drill-%'")}
        settings = dict(conn.execute("SELECT user_id, store_images FROM consent_settings").fetchall())
    return actors, settings


def _verify(changes: list[Change], disaster_at: datetime, actors: set[str], settings: dict[str, bool]):
    before = [c for c in changes if c.committed_at < disaster_at]
    after = [c for c in changes if c.committed_at >= disaster_at]
    lost = tuple(sorted(c.actor for c in before if c.actor not in actors))
    resurrected = tuple(sorted(c.actor for c in after if c.actor in actors))
    last_value = {c.user_id: c.store_images for c in before}  # sorted by commit time: the last one wins
    wrong = tuple(sorted(u for u, v in last_value.items() if settings.get(u) != v))
    recovered = [c.committed_at for c in before if c.actor in actors]
    return before, after, lost, resurrected, wrong, max(recovered, default=None)


PROGRESS_LINES = 4  # during the load phase, so a long drill is never silent


def _load_with_progress(load: ConsentLoad, seconds: float, log) -> None:
    """Let the writers run for ``seconds``, saying so PROGRESS_LINES times."""
    step = seconds / PROGRESS_LINES
    for done in range(1, PROGRESS_LINES + 1):
        time.sleep(step)
        log(f"  load {done * step:.0f}/{seconds:.0f} s: {load.committed} changes committed")


def run_drill(shape: DrillShape, log=print) -> DrillReport:
    total = shape.warmup_s + shape.load_s + shape.after_s
    log(f"drill: {shape.writers} writers for about {total:.0f} s, then a point-in-time restore")
    primary = ArchivingPostgresServer()
    restored: RestoredPostgresServer | None = None
    try:
        primary.start()
        primary.createdb(DRILL_DATABASE)
        upgrade(primary.url_for(DRILL_DATABASE))
        dsn = primary.dsn_for(DRILL_DATABASE)
        log(f"primary on port {primary.port}, WAL archive {primary.archive_dir}; {shape.writers} writers")
        load = ConsentLoad(primary.url_for(DRILL_DATABASE), shape.writers)
        load.start()
        time.sleep(shape.warmup_s)
        started = time.monotonic()
        primary.base_backup(primary.backup_dir())
        base_backup_s = time.monotonic() - started
        log(f"base backup done in {base_backup_s:.2f} s at {load.committed} changes; load continues")
        _load_with_progress(load, shape.load_s, log)
        disaster_at, target = _disaster(dsn)
        disaster_clock = time.monotonic()
        log(f"disaster at {target} ({load.committed} changes so far); writes continue")
        time.sleep(shape.after_s)
        changes = load.stop()

        decision_clock = time.monotonic()
        _archive_current_wal(dsn)
        restored = RestoredPostgresServer(primary.backup_dir(), primary.archive_dir, target)
        restored.start()
        restored_dsn = restored.dsn_for(DRILL_DATABASE)
        _wait_promoted(restored_dsn)
        actors, settings = _restored_state(restored_dsn)
        serving_clock = time.monotonic()
        log(f"restored server on port {restored.port} promoted and serving")

        before, after, lost, resurrected, wrong, last = _verify(changes, disaster_at, actors, settings)
        return DrillReport(
            shape=shape,
            committed_before=len(before),
            committed_after=len(after),
            lost=lost,
            resurrected=resurrected,
            wrong_settings=wrong,
            restored_settings_rows=len(settings),
            disaster_at=disaster_at,
            last_recovered_commit=last,
            recovery_target=target,
            restore_s=serving_clock - decision_clock,
            disaster_to_serving_s=serving_clock - disaster_clock,
            base_backup_s=base_backup_s,
        )
    finally:
        if restored is not None:
            restored.close()
        primary.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_ops.drill", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help=f"full form: {FULL}")
    args = parser.parse_args(argv)
    report = run_drill(FULL if args.full else SHORT)
    for line in report.lines():
        print(line)
    for name, actors in (("lost", report.lost), ("resurrected", report.resurrected)):
        if actors:
            print(f"{name}: {', '.join(actors[:20])}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
