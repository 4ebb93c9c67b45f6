"""Every metric an alert or recording rule reads is exported by the app, recorded by a rule, or declared."""

from __future__ import annotations

import promql_parser

from florai.metrics import EXPORTED
from florai_alerts.external_metrics import load_external_metrics
from florai_alerts.render import rule_files


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node, *_):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def test_parser_finds_names_inside_subqueries_and_functions():
    expr = "avg_over_time(sum by (a) (x_total{a='1'})[1d:5m]) > histogram_quantile(0.9, rate(y_bucket[5m]))"
    assert _metric_names(expr) == {"x_total", "y_bucket"}


def test_every_metric_in_the_rules_is_known():
    rules = [r for _, doc in rule_files().values() for group in doc["groups"] for r in group["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    external = set(load_external_metrics())
    used = {name for r in rules for name in _metric_names(r["expr"])}
    unknown = sorted(used - EXPORTED - recorded - external)
    assert unknown == [], "add the metric to alerts/external-metrics.yaml with its source, or fix the name"
    assert used & EXPORTED and used & external and used & recorded
