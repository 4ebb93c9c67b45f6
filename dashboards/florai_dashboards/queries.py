"""Queries of the committed dashboards, Grafana variables resolved, and the metric names they read.

Used by the lint and metric-contract tests and by the live test that runs every query against
a real Prometheus: they all read the committed JSON, so what is checked is what ships.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import promql_parser

from florai_dashboards.render import JSON_DIR

# Values that make a Grafana query valid PromQL; the live test passes its own windows.
DEFAULT_VARIABLES: Mapping[str, str] = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}
# Label-value variables select everything when not given ("All").
ANY_VALUE = ".*"
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


@dataclass(frozen=True)
class DashboardQuery:
    """One target of one panel of a committed dashboard."""

    dashboard: str
    panel: str
    expr: str
    datasource: object

    @property
    def where(self) -> str:
        return f"{self.dashboard} / {self.panel}"


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def dashboards(json_dir: Path = JSON_DIR) -> dict[str, dict]:
    """uid -> the dashboard's JSON model, for every committed dashboard."""
    boards = {}
    for path in sorted(json_dir.glob("*.json")):
        board = json.loads(path.read_text())
        boards[board["uid"]] = board
    return boards


def panels(board: dict) -> list[dict]:
    """Every panel of a dashboard that shows data (rows excluded), nested ones included."""
    return [p for p in _panels(board.get("panels") or []) if p.get("type") != "row"]


def dashboard_queries(json_dir: Path = JSON_DIR) -> list[DashboardQuery]:
    found = []
    for uid, board in dashboards(json_dir).items():
        for panel in panels(board):
            # PromQL targets (the logs board's CloudWatch Logs Insights query has no expr).
            for target in (t for t in panel.get("targets") or [] if "expr" in t):
                found.append(
                    DashboardQuery(uid, panel.get("title", ""), target["expr"], target.get("datasource"))
                )
    return found


def resolve_variables(expr: str, values: Mapping[str, str] | None = None) -> str:
    """``expr`` with every Grafana variable replaced: built-in windows, then label values (``.*``)."""
    known = {**DEFAULT_VARIABLES, **(values or {})}

    def replace(match: re.Match) -> str:
        name = next(g for g in match.groups() if g)
        return known.get(name, ANY_VALUE)

    return _VARIABLE.sub(replace, expr)


def metric_names(expr: str) -> set[str]:
    """Names of the series a PromQL expression selects, from its parsed syntax tree."""
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
                    names.add(matcher.value)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names
