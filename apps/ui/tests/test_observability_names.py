"""The UI metric names the alerts, the dashboard and the canary select are the ones the UI exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from florai_alerts.external_metrics import load_external_metrics
from florai_dashboards.boards import ui as ui_board
from florai_ui import contract, metrics

REPO = Path(__file__).resolve().parents[3]
SOURCES = {
    "alerts": REPO / "alerts" / "rules" / "ui.yaml",
    "canary": REPO / "apps" / "deploy" / "ui" / "components" / "canary" / "analysis-template.yaml",
    "dashboard": Path(ui_board.__file__),
}
UI_SERIES = re.compile(rf"\b{contract.METRIC_PREFIX}_[a-z_]+\b")


def exported_series() -> set[str]:
    """Every series name the UI's metrics produce (histogram _bucket/_count/_sum, counter _total)."""
    names = set()
    for collector in (metrics.PAGE_RENDER, metrics.API_CALL, metrics.API_ERRORS):
        for family in collector.collect():
            names |= {sample.name for sample in family.samples}
            if family.type == "histogram":
                names |= {family.name + s for s in ("_bucket", "_count", "_sum")}
            if family.type == "counter":
                names.add(family.name + "_total")
    return names


def test_the_contract_names_are_what_the_ui_exports():
    assert {
        contract.PAGE_RENDER_METRIC + "_bucket",
        contract.API_CALL_METRIC + "_count",
        contract.API_ERRORS_METRIC,
    } <= exported_series()


def test_every_ui_series_used_elsewhere_is_exported_and_declared():
    exported = exported_series()
    declared = {name for name, source in load_external_metrics().items() if source == "florai-ui"}
    used = {}
    for where, path in SOURCES.items():
        used[where] = set(UI_SERIES.findall(path.read_text()))
        assert used[where], f"{where} selects no UI series"
        assert used[where] <= exported, (where, sorted(used[where] - exported))
    assert set().union(*used.values()) <= declared <= exported


def test_the_alerts_and_the_canary_judge_by_the_same_failures_and_thresholds():
    """What fails a UI canary is what pages for the UI: the same failure reasons and thresholds."""
    rules = {
        r["alert"]: r["expr"]
        for g in yaml.safe_load(SOURCES["alerts"].read_text())["groups"]
        for r in g["rules"]
    }
    canary = {m["name"]: m for m in yaml.safe_load(SOURCES["canary"].read_text())["spec"]["metrics"]}
    reasons = f'reason=~"{contract.SERVICE_FAILURE_REASONS}"'
    assert (
        reasons in rules["FloraiUIApiErrorRateHigh"]
        and reasons in canary["api-error-ratio"]["provider"]["prometheus"]["query"]
    )
    assert rules["FloraiUIApiErrorRateHigh"].rstrip().endswith(f"> {contract.API_ERROR_RATIO_MAX}")
    assert canary["api-error-ratio"]["failureCondition"].endswith(
        f"result[0] > {contract.API_ERROR_RATIO_MAX}"
    )
    assert rules["FloraiUIPageLoadSlow"].rstrip().endswith(f"> {contract.PAGE_RENDER_P95_MAX_S}")
    assert canary["p95-page-render"]["failureCondition"].endswith(
        f"result[0] > {contract.PAGE_RENDER_P95_MAX_S}.0"
    )
    failures = re.compile(f"^(?:{contract.SERVICE_FAILURE_REASONS})$")
    assert [r for r in ("500", "503", "429", "timeout", "unreachable") if not failures.match(r)] == []
    assert [r for r in ("ok", "413", "415", "422", "400") if failures.match(r)] == []
