"""The backup-age exporter's objects: same image, its own module, scraped, and fenced by its own policies."""

from __future__ import annotations

import pytest

from florai import contract
from florai.exporters import backup_age
from florai_gitops import manifests
from florai_infra import names

NAME = names.BACKUP_EXPORTER.name
APP_LABEL = "app.kubernetes.io/name"


def one(env: str, kind: str, name: str) -> dict:
    (found,) = [o for o in manifests.rendered(env) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_one_replica_of_the_app_image_running_the_exporter_module(env):
    exporter = one(env, "Deployment", NAME)
    assert exporter["spec"]["replicas"] == 1
    (container,) = exporter["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", backup_age.__name__]
    inference = one(env, "Deployment" if env == "dev" else "Rollout", "florai-consent")
    (app,) = inference["spec"]["template"]["spec"]["containers"]
    assert container["image"] == app["image"]
    (port,) = container["ports"]
    assert port["containerPort"] == contract.HTTP_PORT
    assert {e["name"] for e in container["env"]} >= {
        backup_age.INSTANCES_ENV,
        backup_age.INTERVAL_ENV,
        "AWS_REGION",
    }
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == contract.METRICS_PATH


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_only_its_own_service_and_monitor_select_it(env):
    pod_labels = one(env, "Deployment", NAME)["spec"]["template"]["metadata"]["labels"]
    assert pod_labels[APP_LABEL] == NAME and pod_labels["app.kubernetes.io/part-of"] == "florai"
    services = [s for s in manifests.rendered(env) if s["kind"] == "Service"]
    assert [
        s["metadata"]["name"] for s in services if selects({"matchLabels": s["spec"]["selector"]}, pod_labels)
    ] == [NAME]
    service = one(env, "Service", NAME)
    monitors = [m for m in manifests.rendered(env) if m["kind"] == "ServiceMonitor"]
    assert [
        m["metadata"]["name"]
        for m in monitors
        if selects(m["spec"]["selector"], service["metadata"]["labels"])
    ] == [NAME]
    monitor = one(env, "ServiceMonitor", NAME)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_network_policies_allow_prometheus_in_and_https_out_only(env):
    pod_labels = one(env, "Deployment", NAME)["spec"]["template"]["metadata"]["labels"]
    policies = [
        p["spec"]
        for p in manifests.rendered(env)
        if p["kind"] == "NetworkPolicy" and selects(p["spec"]["podSelector"], pod_labels)
    ]
    ingress = [rule for p in policies for rule in p.get("ingress", [])]
    egress = [rule for p in policies for rule in p.get("egress", [])]
    assert [r["from"] for r in ingress] == [
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    ]
    assert {(port["protocol"], port["port"]) for r in egress for port in r["ports"]} == {
        ("UDP", 53),
        ("TCP", 53),
        ("TCP", 443),
    }
    https = next(r for r in egress if r["ports"] == [{"protocol": "TCP", "port": 443}])
    assert https["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]
