"""``python -m florai.exporters.backup_age``: the age of the newest RDS backup, for Prometheus.

CloudWatch has no backup-age metric, so this process polls the RDS API every interval for each
configured instance and sets the florai_backup_* gauges of florai.metrics: the newest available
snapshot (automated or manual) and the instance's LatestRestorableTime. A failed poll counts an
error, sets up to 0 and keeps the last good values, so one API hiccup never fakes a fresh backup
nor hides an old one.

Environment: FLORAI_BACKUP_DB_INSTANCES (comma-separated identifiers, required),
FLORAI_BACKUP_POLL_INTERVAL_S (default 300), AWS_REGION, HOST/PORT of the /metrics listener.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import start_http_server

from florai import contract, metrics
from florai.observability import configure_logging

log = logging.getLogger("florai.exporters.backup_age")

INSTANCES_ENV = "FLORAI_BACKUP_DB_INSTANCES"
INTERVAL_ENV = "FLORAI_BACKUP_POLL_INTERVAL_S"
# RDS takes one automated snapshot a day; five minutes is fresh enough and far below API limits.
DEFAULT_INTERVAL_S = 300.0
AVAILABLE = "available"

# Error reasons (the `reason` label of florai_backup_exporter_errors_total).
INSTANCE_NOT_FOUND = "instance_not_found"
API_ERROR = "api_error"
NO_SNAPSHOT = "no_snapshot"


class ExporterConfigError(ValueError):
    """The exporter's environment is invalid; the message names the variable."""


class BackupPollError(Exception):
    """One instance could not be polled; ``reason`` is the error counter's label value."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ExporterConfig:
    instances: tuple[str, ...]
    interval_s: float
    host: str
    port: int
    region: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ExporterConfig:
        instances = tuple(i.strip() for i in environ.get(INSTANCES_ENV, "").split(",") if i.strip())
        if not instances:
            raise ExporterConfigError(f"{INSTANCES_ENV} must name at least one RDS instance identifier")
        try:
            interval_s = float(environ.get(INTERVAL_ENV, DEFAULT_INTERVAL_S))
        except ValueError:
            raise ExporterConfigError(f"{INTERVAL_ENV} must be a number of seconds") from None
        if interval_s <= 0:
            raise ExporterConfigError(f"{INTERVAL_ENV} must be positive")
        return cls(
            instances=instances,
            interval_s=interval_s,
            host=environ.get("HOST", "0.0.0.0"),  # noqa: S104 (a pod listens on its own IP)
            port=int(environ.get("PORT", contract.HTTP_PORT)),
            region=environ.get("AWS_REGION"),
        )


@dataclass(frozen=True)
class BackupTimes:
    """Unix seconds of one instance's newest snapshot and newest point-in-time restore target."""

    last_success: float | None
    latest_restorable: float | None


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def read_backup_times(rds: Any, identifier: str) -> BackupTimes:
    """Both times for ``identifier`` from DescribeDBInstances and DescribeDBSnapshots."""
    try:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
            raise BackupPollError(INSTANCE_NOT_FOUND, f"RDS instance {identifier} not found") from exc
        raise
    created = [
        snapshot["SnapshotCreateTime"]
        for page in rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=identifier)
        for snapshot in page["DBSnapshots"]
        if snapshot.get("Status") == AVAILABLE and snapshot.get("SnapshotCreateTime")
    ]
    return BackupTimes(
        last_success=_seconds(max(created)) if created else None,
        latest_restorable=_seconds(instance.get("LatestRestorableTime")),
    )


def poll_once(rds: Any, instances: Sequence[str]) -> dict[str, str]:
    """Update the gauges for every instance; {identifier: "ok" or the error reason}."""
    outcome: dict[str, str] = {}
    for identifier in instances:
        try:
            times = read_backup_times(rds, identifier)
            if times.latest_restorable is not None:
                metrics.BACKUP_LATEST_RESTORABLE.labels(identifier).set(times.latest_restorable)
            if times.last_success is None:
                raise BackupPollError(NO_SNAPSHOT, f"RDS instance {identifier} has no available snapshot")
            metrics.BACKUP_LAST_SUCCESS.labels(identifier).set(times.last_success)
        except (BackupPollError, ClientError, BotoCoreError) as exc:
            reason = exc.reason if isinstance(exc, BackupPollError) else API_ERROR
            metrics.BACKUP_POLL_ERRORS.labels(identifier, reason).inc()
            metrics.BACKUP_EXPORTER_UP.labels(identifier).set(0)
            log.warning("backup poll failed", extra={"dbinstance_identifier": identifier, "reason": reason})
            outcome[identifier] = reason
            continue
        metrics.BACKUP_EXPORTER_UP.labels(identifier).set(1)
        outcome[identifier] = "ok"
    return outcome


def run(config: ExporterConfig, rds: Any, stop: threading.Event) -> None:
    """Serve /metrics and poll until ``stop`` is set (SIGTERM in the pod)."""
    server, _ = start_http_server(config.port, addr=config.host)
    log.info(
        "backup-age exporter listening", extra={"port": config.port, "instances": list(config.instances)}
    )
    try:
        while not stop.is_set():
            poll_once(rds, config.instances)
            stop.wait(config.interval_s)
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    configure_logging(os.environ.get("FLORAI_LOG_LEVEL", "INFO"))
    try:
        config = ExporterConfig.from_env()
    except ExporterConfigError as exc:
        print(f"florai backup-age exporter: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(config, boto3.client("rds", region_name=config.region), stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
