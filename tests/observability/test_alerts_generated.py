"""The committed rules are what the generator writes: plain files, PrometheusRules, kustomization."""

from __future__ import annotations

import base64
import re
import subprocess

import yaml

from florai.contract import SERVICE_NAMES
from florai_alerts import alertmanager
from florai_alerts.burn_rate import POLICIES, RATIO_WINDOWS
from florai_alerts.generate import stale_files, stale_paths
from florai_alerts.labels import SEVERITIES
from florai_alerts.layout import ALERTS_DIR, KUSTOMIZATION, PLAIN_RULES_DIR, PROMETHEUS_RULES_DIR
from florai_alerts.render import OBJECT_LABELS, RULE_NAMESPACE, render, rule_files
from florai_alerts.runbooks import repository_web_url, runbook_url
from florai_alerts.slo import load_slos


def _alert_rules() -> list[dict]:
    return [
        rule
        for _, document in rule_files().values()
        for group in document["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_committed_output_is_fresh():
    assert stale_files() == [], "run `python -m florai_alerts generate` and commit the result"


def test_staleness_is_detected(tmp_path):
    fresh, edited, missing, leftover = (tmp_path / n for n in ("fresh", "edited", "missing", "leftover"))
    fresh.write_text("a")
    edited.write_text("old")
    leftover.write_text("x")
    outputs = {fresh: "a", edited: "new", missing: "m"}
    assert stale_paths(outputs, {fresh, edited, leftover}) == sorted([edited, missing, leftover])


def test_output_is_deterministic():
    assert render() == render()


def test_prometheus_rules_carry_the_plain_rule_files_and_the_selector_label():
    for plain in sorted(PLAIN_RULES_DIR.glob("*.rules.yaml")):
        name = plain.name.removesuffix(".rules.yaml")
        obj = yaml.safe_load((PROMETHEUS_RULES_DIR / f"florai-{name}.yaml").read_text())
        assert obj["apiVersion"] == "monitoring.coreos.com/v1" and obj["kind"] == "PrometheusRule"
        assert obj["metadata"]["namespace"] == RULE_NAMESPACE == "monitoring"
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert obj["metadata"]["labels"] == OBJECT_LABELS
        assert obj["spec"] == yaml.safe_load(plain.read_text())


def test_kustomization_delivers_every_prometheus_rule():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    objects = sorted(p.relative_to(ALERTS_DIR).as_posix() for p in PROMETHEUS_RULES_DIR.glob("*.yaml"))
    receivers = alertmanager.ROUTING.parent / "receivers.yaml"
    assert sorted(kustomization["resources"]) == sorted(
        [*objects, receivers.relative_to(ALERTS_DIR).as_posix()]
    )
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(ALERTS_DIR)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    documents = list(yaml.safe_load_all(rendered))
    rules = [d for d in documents if d["kind"] == "PrometheusRule"]
    assert len(rules) == len(objects)
    assert {d["metadata"]["namespace"] for d in documents} == {RULE_NAMESPACE}
    # Besides the rules: Alertmanager's config (generated) and its receivers' credentials.
    others = sorted((d["kind"], d["metadata"]["name"]) for d in documents if d["kind"] != "PrometheusRule")
    assert others == [
        ("ExternalSecret", alertmanager.RECEIVERS_SECRET),
        ("Secret", alertmanager.CONFIG_SECRET),
    ]
    (config,) = [d for d in documents if d["kind"] == "Secret"]
    assert (
        base64.b64decode(config["data"]["alertmanager.yaml"]).decode()
        == alertmanager.CLUSTER_CONFIG.read_text()
    )


def test_every_alert_follows_the_conventions():
    pattern = re.compile(r"^Florai[A-Z][A-Za-z0-9]*$")
    for rule in _alert_rules():
        name = rule["alert"]
        assert pattern.match(name), name
        assert rule["labels"]["severity"] in SEVERITIES, name
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip(), name
        assert rule["annotations"]["runbook_url"] == runbook_url(name), name


def test_runbook_url_uses_the_repository_the_gitops_config_syncs():
    prod = yaml.safe_load((ALERTS_DIR.parent / "Pulumi.prod.yaml").read_text())
    repo = prod["config"]["florai:gitops"]["repoUrl"].removesuffix(".git")
    assert repository_web_url() == repo
    assert runbook_url("FloraiLoadShedding") == f"{repo}/blob/main/runbooks/FloraiLoadShedding.md"


def test_readme_lists_exactly_the_alert_names():
    readme = (ALERTS_DIR / "README.md").read_text()
    listed = set(re.findall(r"^\| (Florai\w+) \|", readme, flags=re.MULTILINE))
    assert listed == {rule["alert"] for rule in _alert_rules()}


def test_every_service_has_an_availability_and_a_latency_slo():
    slos = {(slo.service, slo.name) for slo in load_slos()}
    assert slos == {(service, kind) for service in SERVICE_NAMES for kind in ("availability", "latency")}


def test_burn_rate_policy_is_the_multi_window_multi_burn_rate_table():
    table = {
        policy.severity: [(c.factor, c.long_window, c.short_window) for c in policy.conditions]
        for policy in POLICIES
    }
    assert table == {
        "page": [(14.4, "1h", "5m"), (6, "6h", "30m")],
        "ticket": [(3, "1d", "2h"), (1, "3d", "6h")],
    }
    assert set(RATIO_WINDOWS) == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}


def test_slo_alerts_compare_each_window_to_factor_times_budget():
    rules = [r for r in _alert_rules() if r["alert"] == "FloraiAvailabilityBudgetBurn"]
    identify_page = next(
        r for r in rules if r["labels"]["service"] == "florai-identify" and r["labels"]["severity"] == "page"
    )
    expr = identify_page["expr"]
    assert (
        'florai:slo_error_ratio:rate1h{service="florai-identify", slo="availability"} > (14.4 * 0.005)'
        in expr
    )
    assert (
        'florai:slo_error_ratio:rate30m{service="florai-identify", slo="availability"} > (6 * 0.005)' in expr
    )
    assert len(rules) == len(SERVICE_NAMES) * len(POLICIES)
