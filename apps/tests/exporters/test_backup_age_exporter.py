"""The backup-age exporter against moto's RDS: gauge values, error handling, the /metrics listener."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from prometheus_client import REGISTRY

from florai import metrics
from florai.exporters import backup_age
from florai_testkit.servers import free_port

REGION = "us-east-1"


@pytest.fixture
def rds() -> Iterator:
    with mock_aws():
        yield boto3.client("rds", region_name=REGION)


def create_instance(rds, identifier: str) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="florai",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
    )


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def errors(identifier: str, reason: str) -> float:
    labels = {"dbinstance_identifier": identifier, "reason": reason}
    return REGISTRY.get_sample_value("florai_backup_exporter_errors_total", labels) or 0.0


def snapshot_times(rds, identifier: str) -> list[float]:
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=identifier)["DBSnapshots"]
    return [s["SnapshotCreateTime"].timestamp() for s in snapshots]


def test_gauges_hold_the_newest_snapshot_and_the_latest_restorable_time(rds):
    create_instance(rds, "florai-t-gauges")
    time.sleep(0.01)  # the manual snapshot is strictly newer than the automated one
    rds.create_db_snapshot(
        DBInstanceIdentifier="florai-t-gauges", DBSnapshotIdentifier="florai-t-gauges-manual"
    )
    before = time.time()
    assert backup_age.poll_once(rds, ["florai-t-gauges"]) == {"florai-t-gauges": "ok"}
    after = time.time()
    times = snapshot_times(rds, "florai-t-gauges")
    assert len(times) == 2
    newest = sample("florai_backup_last_success_timestamp_seconds", dbinstance_identifier="florai-t-gauges")
    assert newest == max(times) > min(times)
    # moto reports LatestRestorableTime as the moment of the DescribeDBInstances call.
    restorable = sample(
        "florai_backup_latest_restorable_timestamp_seconds", dbinstance_identifier="florai-t-gauges"
    )
    assert before <= restorable <= after
    assert sample("florai_backup_exporter_up", dbinstance_identifier="florai-t-gauges") == 1


def test_a_missing_instance_counts_an_error_and_sets_no_backup_time(rds):
    assert backup_age.poll_once(rds, ["florai-t-missing"]) == {"florai-t-missing": "instance_not_found"}
    assert errors("florai-t-missing", "instance_not_found") == 1
    assert sample("florai_backup_exporter_up", dbinstance_identifier="florai-t-missing") == 0
    assert (
        sample("florai_backup_last_success_timestamp_seconds", dbinstance_identifier="florai-t-missing")
        is None
    )


def test_an_api_error_keeps_the_last_good_value(rds):
    create_instance(rds, "florai-t-api")
    assert backup_age.poll_once(rds, ["florai-t-api"]) == {"florai-t-api": "ok"}
    good = sample("florai_backup_last_success_timestamp_seconds", dbinstance_identifier="florai-t-api")
    assert good is not None
    # A real connection failure: nothing listens on this port, and botocore retries once only.
    unreachable = boto3.client(
        "rds",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    assert backup_age.poll_once(unreachable, ["florai-t-api"]) == {"florai-t-api": "api_error"}
    assert errors("florai-t-api", "api_error") == 1
    assert sample("florai_backup_exporter_up", dbinstance_identifier="florai-t-api") == 0
    assert (
        sample("florai_backup_last_success_timestamp_seconds", dbinstance_identifier="florai-t-api") == good
    )
    # The next good poll recovers.
    assert backup_age.poll_once(rds, ["florai-t-api"]) == {"florai-t-api": "ok"}
    assert sample("florai_backup_exporter_up", dbinstance_identifier="florai-t-api") == 1


def test_an_instance_without_snapshots_is_an_error_but_its_restore_window_is_exported(rds):
    create_instance(rds, "florai-t-nosnap")
    for snapshot in rds.describe_db_snapshots(DBInstanceIdentifier="florai-t-nosnap")["DBSnapshots"]:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])
    assert backup_age.poll_once(rds, ["florai-t-nosnap"]) == {"florai-t-nosnap": "no_snapshot"}
    assert errors("florai-t-nosnap", "no_snapshot") == 1
    assert (
        sample("florai_backup_last_success_timestamp_seconds", dbinstance_identifier="florai-t-nosnap")
        is None
    )
    assert (
        sample("florai_backup_latest_restorable_timestamp_seconds", dbinstance_identifier="florai-t-nosnap")
        is not None
    )


def test_one_failing_instance_does_not_stop_the_others(rds):
    create_instance(rds, "florai-t-ok")
    outcome = backup_age.poll_once(rds, ["florai-t-gone", "florai-t-ok"])
    assert outcome == {"florai-t-gone": "instance_not_found", "florai-t-ok": "ok"}


def test_metrics_listener_serves_the_gauges_and_stops(rds):
    create_instance(rds, "florai-t-http")
    port = free_port()
    config = backup_age.ExporterConfig(("florai-t-http",), 60.0, "127.0.0.1", port, REGION)
    stop = threading.Event()
    runner = threading.Thread(target=backup_age.run, args=(config, rds, stop))
    runner.start()
    try:
        body = ""
        deadline = time.monotonic() + 10
        while 'florai_backup_exporter_up{dbinstance_identifier="florai-t-http"} 1.0' not in body:
            assert time.monotonic() < deadline, body
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.05)
        assert 'florai_backup_last_success_timestamp_seconds{dbinstance_identifier="florai-t-http"}' in body
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()


def test_every_exporter_series_is_in_the_metric_contract():
    gauges = (metrics.BACKUP_LAST_SUCCESS, metrics.BACKUP_LATEST_RESTORABLE, metrics.BACKUP_EXPORTER_UP)
    assert {g._name for g in gauges} | {"florai_backup_exporter_errors_total"} <= metrics.EXPORTED


def test_config_from_env():
    config = backup_age.ExporterConfig.from_env(
        {
            "FLORAI_BACKUP_DB_INSTANCES": "florai-prod, florai-prod-replica",
            "FLORAI_BACKUP_POLL_INTERVAL_S": "60",
        }
    )
    assert config.instances == ("florai-prod", "florai-prod-replica")
    assert config.interval_s == 60.0 and config.port == 8000
    for bad in (
        {},
        {"FLORAI_BACKUP_DB_INSTANCES": " , "},
        {"FLORAI_BACKUP_DB_INSTANCES": "x", "FLORAI_BACKUP_POLL_INTERVAL_S": "0"},
    ):
        with pytest.raises(backup_age.ExporterConfigError):
            backup_age.ExporterConfig.from_env(bad)


def test_module_refuses_to_start_without_instances():
    done = subprocess.run(
        [sys.executable, "-m", "florai.exporters.backup_age"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 2
    assert "FLORAI_BACKUP_DB_INSTANCES" in done.stderr
