"""The blackbox Probe checks the certificate of the host the Ingress serves, under the job the alert reads."""

from __future__ import annotations

import promql_parser
import pytest
import yaml

from florai_gitops import appsets, manifests

ALERT = "FloraiCertificateExpiringSoon"
EDGE_RULES = manifests.REPO_ROOT / "alerts" / "rules" / "edge.yaml"
BLACKBOX_PORT = 9115


def one(env: str, kind: str, name: str) -> dict:
    (found,) = [o for o in manifests.rendered(env) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def alert_job() -> str:
    """The `job` matcher of the certificate alert's expression."""
    groups = yaml.safe_load(EDGE_RULES.read_text())["groups"]
    (expr,) = [r["expr"] for g in groups for r in g["rules"] if r.get("alert") == ALERT]
    jobs: list[str] = []

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name == "probe_ssl_earliest_cert_expiry":
            jobs.extend(m.value for m in node.matchers.matchers if m.name == "job")

    promql_parser.walk(promql_parser.parse(expr), visit)
    (job,) = jobs
    return job


def blackbox_application_set() -> dict:
    (found,) = [
        s
        for s in appsets.application_sets(appsets.directory_objects())
        if s["metadata"]["name"] == "blackbox-exporter"
    ]
    return found["spec"]["template"]["spec"]


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_probe_targets_the_ingress_hosts_over_tls_with_the_alert_job(env):
    probe = one(env, "Probe", "florai-api")["spec"]
    (tls,) = one(env, "Ingress", "florai")["spec"]["tls"]
    assert probe["targets"]["staticConfig"]["static"] == [f"{host}:443" for host in tls["hosts"]]
    assert probe["jobName"] == alert_job() == "blackbox-florai-api"
    assert one(env, "Probe", "florai-api")["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_probe_uses_a_module_and_the_service_the_blackbox_addon_installs(env):
    probe = one(env, "Probe", "florai-api")["spec"]
    addon = blackbox_application_set()
    release = addon["source"]["helm"]["releaseName"]
    assert addon["source"]["chart"] == "prometheus-blackbox-exporter"
    # The chart names its Service after the release when the release name contains the chart name.
    assert release.endswith(addon["source"]["chart"])
    assert probe["prober"]["url"] == f"{release}.{addon['destination']['namespace']}.svc:{BLACKBOX_PORT}"
    module = addon["source"]["helm"]["valuesObject"]["config"]["modules"][probe["module"]]
    # A TCP+TLS handshake exports probe_ssl_earliest_cert_expiry whatever the HTTP routes answer.
    assert module["prober"] == "tcp" and module["tcp"]["tls"] is True


def test_prometheus_selects_probes_of_every_release():
    (kps,) = [
        s
        for s in appsets.application_sets(appsets.directory_objects())
        if s["metadata"]["name"] == "kube-prometheus-stack"
    ]
    spec = kps["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]["prometheus"]["prometheusSpec"]
    assert spec["probeSelectorNilUsesHelmValues"] is False
