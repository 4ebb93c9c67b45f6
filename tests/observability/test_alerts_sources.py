"""SLO specs and hand-written rule sources are validated before anything is generated."""

from __future__ import annotations

import pytest
import yaml

from florai_alerts.external_metrics import load_external_metrics
from florai_alerts.handwritten import RuleSourceError, load_rule_sources
from florai_alerts.labels import service_label_value
from florai_alerts.slo import SLOSpecError, parse_spec

GOOD_QUERY = 'sum(rate(florai_http_requests_total{service="florai-consent", status=~"5.."}[{{window}}]))'
TOTAL_QUERY = 'sum(rate(florai_http_requests_total{service="florai-consent"}[{{window}}]))'


def _spec(**changes) -> dict:
    slo = {
        "name": "availability",
        "objective": 0.999,
        "window": "30d",
        "sli": {"error_query": GOOD_QUERY, "total_query": TOTAL_QUERY},
    }
    slo.update(changes)
    return {"service": "consent", "slos": [slo]}


def test_a_good_spec_parses():
    (slo,) = parse_spec("consent.yaml", _spec())
    assert slo.service_label == "florai-consent"
    assert round(slo.error_budget, 6) == 0.001
    assert "[30m]" in slo.error_ratio_query("30m") and "{{window}}" not in slo.error_ratio_query("30m")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objective": 99.9}, "objective must be a ratio"),
        ({"objective": 1.0}, "objective must be a ratio"),
        ({"window": "7d"}, "window must be 30d"),
        ({"name": "throughput"}, "name must be one of"),
        (
            {"sli": {"error_query": GOOD_QUERY.replace("[{{window}}]", "[5m]"), "total_query": TOTAL_QUERY}},
            "placeholder",
        ),
        (
            {
                "sli": {
                    "error_query": GOOD_QUERY.replace("florai-consent", "florai-identify"),
                    "total_query": TOTAL_QUERY,
                }
            },
            'must select service="florai-consent"',
        ),
        (
            {
                "sli": {
                    "error_query": 'sum(rate(x{service="florai-consent"}[{{window}}])',
                    "total_query": TOTAL_QUERY,
                }
            },
            "not valid PromQL",
        ),
        ({"sli": {"error_query": GOOD_QUERY}}, "sli.total_query is required"),
    ],
)
def test_a_bad_spec_is_refused_with_the_field_named(changes, message):
    with pytest.raises(SLOSpecError, match=message):
        parse_spec("consent.yaml", _spec(**changes))


def test_an_unknown_service_is_refused():
    with pytest.raises(SLOSpecError, match="unknown service"):
        parse_spec("x.yaml", {**_spec(), "service": "translate"})
    with pytest.raises(ValueError, match="unknown service"):
        service_label_value("translate")


def _rule_file(tmp_path, rule: dict):
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    return tmp_path


GOOD_RULE = {
    "alert": "FloraiThingBroken",
    "expr": "up == 0",
    "labels": {"severity": "ticket"},
    "annotations": {"summary": "s", "description": "d"},
}


def test_the_committed_rule_sources_load():
    sources = {"datastores", "edge", "gitops", "gpu", "inference", "kubernetes", "ui"}
    assert set(load_rule_sources()) == sources


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alert": "thing_broken"}, "PascalCase with the Florai prefix"),
        ({"labels": {"severity": "critical"}}, "labels.severity"),
        ({"annotations": {"summary": "s"}}, "non-empty description"),
        ({"annotations": {"summary": "s", "description": "d", "runbook_url": "x"}}, "florai_alerts adds it"),
    ],
)
def test_a_rule_source_breaking_a_convention_is_refused(tmp_path, change, message):
    with pytest.raises(RuleSourceError, match=message):
        load_rule_sources(_rule_file(tmp_path, {**GOOD_RULE, **change}))


def test_an_alert_defined_twice_is_refused(tmp_path):
    _rule_file(tmp_path, GOOD_RULE)
    (tmp_path / "s.yaml").write_text((tmp_path / "r.yaml").read_text())
    with pytest.raises(RuleSourceError, match="already defined"):
        load_rule_sources(tmp_path)


def test_external_metrics_file_loads_and_refuses_duplicates_and_unknown_sources(tmp_path):
    metrics = load_external_metrics()
    assert metrics["kube_pod_status_phase"] == "kube-state-metrics"
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text("sources:\n  a: x\nmetrics:\n  m: a\n  m: a\n")
    with pytest.raises(ValueError, match="listed twice: m"):
        load_external_metrics(duplicate)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("sources:\n  a: x\nmetrics:\n  m: b\n")
    with pytest.raises(ValueError, match="undeclared source: m"):
        load_external_metrics(unknown)
