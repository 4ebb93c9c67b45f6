"""Every metric a query reads is exported by the app, recorded by our rules, or a declared external.

Queries are found generically and parsed (promql-parser), never grepped:
- rule files: plain ``groups:`` files and PrometheusRule objects in any YAML of the repo;
- dashboards: every panel target and every ``label_values`` variable of the committed JSON;
- canary analyses and autoscaling: AnalysisTemplate / ClusterAnalysisTemplate and KEDA ScaledObject
  queries, in the YAML sources and in every rendered overlay of apps/deploy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from florai.metrics import EXPORTED
from florai_alerts.layout import EXTERNAL_METRICS, REPO_ROOT
from florai_dashboards.queries import dashboard_queries, dashboards, metric_names, resolve_variables

SKIP_DIRS = {".git", ".venv", "node_modules", ".data", "__pycache__", ".pytest_cache"}
OVERLAYS_DIR = REPO_ROOT / "apps" / "deploy" / "overlays"
ANALYSIS_KINDS = {"AnalysisTemplate", "ClusterAnalysisTemplate"}
# Argo Rollouts ({{args.x}}) and Helm-style placeholders become a plain label value before parsing.
_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")
_LABEL_VALUES = re.compile(r"label_values\((.+),\s*\w+\)\s*$")


@dataclass(frozen=True)
class Use:
    where: str
    expr: str


def _yaml_files() -> Iterator[Path]:
    for path in sorted(REPO_ROOT.rglob("*.y*ml")):
        if path.suffix in {".yaml", ".yml"} and not SKIP_DIRS & set(path.relative_to(REPO_ROOT).parts):
            yield path


def _documents(text: str) -> list:
    try:
        return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError:
        return []  # templated YAML (Helm charts) is not a query source here


def _rule_groups(doc: dict) -> list[dict]:
    if doc.get("kind") == "PrometheusRule":
        return (doc.get("spec") or {}).get("groups") or []
    groups = doc.get("groups")
    if isinstance(groups, list) and all(isinstance(g, dict) and "rules" in g for g in groups):
        return groups
    return []


def _queries_in(doc: dict, where: str) -> Iterator[Use]:
    """Queries of one Kubernetes object or rule file."""
    for group in _rule_groups(doc):
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record")
            yield Use(f"{where}: {group.get('name')}/{name}", str(rule["expr"]))
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind in ANALYSIS_KINDS:
        for metric in spec.get("metrics") or []:
            query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
            if query:
                yield Use(f"{where}: {kind} {doc['metadata']['name']}/{metric['name']}", query)
    if kind == "ScaledObject":
        for trigger in spec.get("triggers") or []:
            if trigger.get("type") == "prometheus":
                yield Use(f"{where}: ScaledObject {doc['metadata']['name']}", trigger["metadata"]["query"])


def _rendered_overlays() -> dict[str, str]:
    if not OVERLAYS_DIR.is_dir() or shutil.which("kubectl") is None:
        return {}
    rendered = {}
    for overlay in sorted(p.parent for p in OVERLAYS_DIR.glob("*/kustomization.yaml")):
        result = subprocess.run(
            ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, timeout=120, check=True
        )
        rendered[f"rendered {overlay.relative_to(REPO_ROOT)}"] = result.stdout
    return rendered


def _all_uses() -> tuple[list[Use], set[str]]:
    """Every query in the repo, and every name our recording rules define."""
    uses: list[Use] = []
    recorded: set[str] = set()
    sources = {str(p.relative_to(REPO_ROOT)): p.read_text() for p in _yaml_files()}
    for where, text in {**sources, **_rendered_overlays()}.items():
        for doc in _documents(text):
            recorded |= {
                r["record"] for g in _rule_groups(doc) for r in g.get("rules") or [] if "record" in r
            }
            uses += list(_queries_in(doc, where))
    uses += [Use(f"dashboard {q.where}", q.expr) for q in dashboard_queries()]
    for uid, board in dashboards().items():
        for variable in board.get("templating", {}).get("list", []):
            found = _LABEL_VALUES.match(str(variable.get("query", "")))
            if variable.get("type") == "query" and found:
                uses.append(Use(f"dashboard {uid} / variable {variable['name']}", found.group(1)))
    return uses, recorded


def _external() -> dict:
    return yaml.safe_load(EXTERNAL_METRICS.read_text())


USES, RECORDED = _all_uses()
EXTERNAL = _external()


def names_used(expr: str) -> set[str]:
    return metric_names(resolve_variables(_TEMPLATE.sub("x", expr)))


def unknown_names(expr: str, external: set[str], recorded: set[str]) -> set[str]:
    return names_used(expr) - EXPORTED - recorded - external


def test_queries_are_found_in_every_kind_of_source():
    kinds = {
        "rule": any(": florai-" in u.where and "dashboard" not in u.where for u in USES),
        "dashboard": any(u.where.startswith("dashboard ") for u in USES),
        "analysis": any("AnalysisTemplate" in u.where for u in USES),
        "scaledobject": any("ScaledObject" in u.where for u in USES),
        "rendered": any(u.where.startswith("rendered ") for u in USES),
    }
    assert all(kinds.values()), kinds
    assert RECORDED, "no recording rule found under the repo"


@pytest.mark.parametrize("use", USES, ids=lambda u: u.where)
def test_every_metric_is_exported_recorded_or_declared_external(use):
    names = names_used(use.expr)
    assert names, f"{use.where}: selects no metric"
    unknown = unknown_names(use.expr, set(EXTERNAL["metrics"]), RECORDED)
    assert not unknown, (
        f"{use.where} reads {sorted(unknown)}: not in florai.metrics.EXPORTED, not recorded by a rule, "
        f"not listed in {EXTERNAL_METRICS.relative_to(REPO_ROOT)}"
    )


def test_external_metrics_name_a_declared_source_and_no_app_metric():
    sources = set(EXTERNAL["sources"])
    assert {name: src for name, src in EXTERNAL["metrics"].items() if src not in sources} == {}
    assert set(EXTERNAL["metrics"]) & EXPORTED == set()
    assert set(EXTERNAL["metrics"]) & RECORDED == set()


def test_contract_rejects_a_typo_and_an_undeclared_exporter():
    external, recorded = set(EXTERNAL["metrics"]), RECORDED
    assert unknown_names("sum(rate(florai_http_request_total[5m]))", external, recorded) == {
        "florai_http_request_total"
    }
    assert unknown_names('node_cpu_seconds_total{mode="idle"} > 0', external, recorded) == {
        "node_cpu_seconds_total"
    }
    ok = 'sum(rate(florai_http_requests_total{service="{{args.service}}"}[$__rate_interval]))'
    assert unknown_names(ok, external, recorded) == set()
