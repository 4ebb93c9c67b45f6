"""Alertmanager routing (issue 16, finding 3): pages reach the pager, tickets the chat, a page silences
the ticket of the same cause; checked with amtool and with a real Alertmanager on loopback."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time

import httpx
import pytest
import yaml

from florai_alerts import alertmanager
from florai_alerts.labels import SEVERITIES
from florai_alerts.layout import PLAIN_RULES_DIR
from florai_testkit.observability_servers import AlertmanagerServer

EXPECTED = {"page": alertmanager.PAGER, "ticket": alertmanager.CHAT}
# kube-prometheus-stack's own rules use these severities.
UPSTREAM = {
    "critical": alertmanager.PAGER,
    "warning": alertmanager.CHAT,
    "info": alertmanager.NULL,
    "none": alertmanager.NULL,
}
DEADLINE_S = 20.0


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("amtool")
    assert path, "amtool not found: apt-get install -y prometheus-alertmanager"
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=60)


def project_alerts() -> list[dict[str, str]]:
    """Each alerting rule's own labels (alertname, severity), from the generated plain rule files."""
    alerts = []
    for path in sorted(PLAIN_RULES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    alerts.append({"alertname": rule["alert"], **rule.get("labels", {})})
    return alerts


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, str]:
    local = tmp_path_factory.mktemp("am") / "local.yml"
    alertmanager.write(local, alertmanager.local_config("http://127.0.0.1:9/alerts"))
    return {"cluster": str(alertmanager.CLUSTER_CONFIG), "local": str(local)}


@pytest.mark.parametrize("which", ["cluster", "local"])
def test_amtool_accepts_the_config(configs, which):
    done = amtool("check-config", configs[which])
    assert done.returncode == 0, done.stdout + done.stderr


def test_both_configs_share_one_routing_tree(configs):
    cluster = yaml.safe_load(alertmanager.CLUSTER_CONFIG.read_text())
    local = alertmanager.local_config("http://127.0.0.1:9/alerts", fast=False)
    assert cluster["route"] == local["route"] == alertmanager.routing()["route"]
    assert cluster["inhibit_rules"] == local["inhibit_rules"]
    assert {r["name"] for r in cluster["receivers"]} == {r["name"] for r in local["receivers"]}


@pytest.mark.parametrize("which", ["cluster", "local"])
@pytest.mark.parametrize(("severity", "receiver"), [*EXPECTED.items(), *UPSTREAM.items()])
def test_every_severity_reaches_its_receiver(configs, which, severity, receiver):
    done = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={configs[which]}",
        f"--verify.receivers={receiver}",
        "alertname=AnyAlert",
        f"severity={severity}",
        "namespace=florai",
        "service=florai-identify",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_project_alert_routes_by_its_severity(configs):
    alerts = project_alerts()
    assert {a["severity"] for a in alerts} == set(SEVERITIES) == set(EXPECTED)
    for labels in alerts:
        args = [f"{k}={v}" for k, v in labels.items()]
        done = amtool(
            "config",
            "routes",
            "test",
            f"--config.file={configs['cluster']}",
            f"--verify.receivers={EXPECTED[labels['severity']]}",
            *args,
        )
        assert done.returncode == 0, (labels, done.stdout + done.stderr)


def test_the_watchdog_heartbeat_goes_nowhere(configs):
    done = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={configs['cluster']}",
        f"--verify.receivers={alertmanager.NULL}",
        "alertname=Watchdog",
        "severity=none",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_expectation_fails(configs):
    """amtool really verifies: a page is not routed to chat."""
    done = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={configs['cluster']}",
        f"--verify.receivers={alertmanager.CHAT}",
        "alertname=AnyAlert",
        "severity=page",
    )
    assert done.returncode != 0


def test_receivers_read_credentials_from_the_mounted_secret_only():
    config = yaml.safe_load(alertmanager.CLUSTER_CONFIG.read_text())
    text = alertmanager.CLUSTER_CONFIG.read_text()
    assert "routing_key:" not in text and "api_url:" not in text and "https://hooks" not in text
    by_name = {r["name"]: r for r in config["receivers"]}
    (pagerduty,) = by_name[alertmanager.PAGER]["pagerduty_configs"]
    (slack,) = by_name[alertmanager.CHAT]["slack_configs"]
    assert pagerduty["routing_key_file"].startswith(alertmanager.SECRETS_MOUNT + "/")
    assert slack["api_url_file"].startswith(alertmanager.SECRETS_MOUNT + "/")


def _post(url: str, labels: dict[str, str]) -> None:
    now = dt.datetime.now(dt.UTC)
    alert = {
        "labels": labels,
        "annotations": {"summary": "test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(minutes=10)).isoformat(),
    }
    httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()


def _inhibited(url: str) -> dict[str, bool]:
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {
        f"{a['labels']['severity']}/{a['labels']['service']}": bool(a["status"]["inhibitedBy"])
        for a in alerts
    }


def test_a_firing_page_silences_the_ticket_of_the_same_cause(tmp_path):
    with AlertmanagerServer("http://127.0.0.1:9/alerts", base_dir=tmp_path) as server:
        common = {"alertname": "FloraiAvailabilityBudgetBurn", "namespace": "florai", "slo": "availability"}
        _post(server.url, {**common, "severity": "ticket", "service": "florai-identify"})
        _post(server.url, {**common, "severity": "ticket", "service": "florai-diagnose"})
        _post(server.url, {**common, "severity": "page", "service": "florai-identify"})
        deadline = time.monotonic() + DEADLINE_S
        state: dict[str, bool] = {}
        while time.monotonic() < deadline and not state.get("ticket/florai-identify"):
            state = _inhibited(server.url)
            time.sleep(0.2)
    assert state == {
        "ticket/florai-identify": True,
        "ticket/florai-diagnose": False,
        "page/florai-identify": False,
    }


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_receiver_credentials_come_from_the_environment_secret(stack):
    """The alerts Application (as Argo CD renders it) reads florai/<env>/alerting/receivers."""
    from florai_gitops import appsets, manifests
    from florai_infra import names

    (app,) = [
        a
        for a in appsets.stack_applications(stack, cluster=appsets.contract_cluster(stack))
        if a["metadata"]["name"] == f"florai-alerts-{stack}"
    ]
    objects = manifests.kustomize_application(app["spec"]["source"], appsets.REPO_ROOT)
    (secret,) = [o for o in objects if o["kind"] == "ExternalSecret"]
    assert secret["metadata"]["name"] == alertmanager.RECEIVERS_SECRET
    keys = {d["remoteRef"]["key"] for d in secret["spec"]["data"]}
    assert keys == {f"{names.secret_prefix(stack)}alerting/receivers"}
    assert {d["secretKey"] for d in secret["spec"]["data"]} == {
        alertmanager.PAGERDUTY_KEY,
        alertmanager.SLACK_URL,
    }
