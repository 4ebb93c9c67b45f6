"""The UI metric names the alerts, the dashboard and the canary select are the ones the UI exports."""

from __future__ import annotations

import re
from pathlib import Path

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
