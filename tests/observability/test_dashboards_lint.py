"""Dashboard lint over the committed JSON: titles, descriptions, units, windows, datasource, selectors."""

from __future__ import annotations

import promql_parser
import pytest

from florai_dashboards.catalogue import builders
from florai_dashboards.panels import DATASOURCE_VARIABLE, RATE_INTERVAL
from florai_dashboards.queries import dashboard_queries, dashboards, metric_names, panels, resolve_variables

BOARDS = dashboards()
QUERIES = dashboard_queries()
DATASOURCE_UID = "${" + DATASOURCE_VARIABLE + "}"
# Functions over a range whose window must follow the scrape interval Grafana picks.
WINDOWED = {"rate", "irate", "increase", "delta", "idelta", "deriv"}
# Labels that name one replica: a dashboard must aggregate over them, never pin one.
REPLICA_LABELS = {"instance", "pod", "pod_name", "container_id"}


def _calls(expr: str) -> list[promql_parser.Call]:
    found: list = []
    promql_parser.walk(
        promql_parser.parse(resolve_variables(expr)),
        lambda node: found.append(node) if isinstance(node, promql_parser.Call) else None,
    )
    return found


def test_every_generated_dashboard_is_committed_with_its_uid():
    assert sorted(BOARDS) == sorted(builders())
    assert len(QUERIES) > 40


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_every_panel_has_title_description_unit_and_a_target(uid):
    for panel in panels(BOARDS[uid]):
        where = f"{uid} / {panel.get('title')!r}"
        assert panel.get("title"), where
        assert panel.get("description"), f"{where}: no description"
        assert panel.get("fieldConfig", {}).get("defaults", {}).get("unit"), f"{where}: no unit"
        assert panel.get("targets"), f"{where}: no query"
        assert panel["datasource"]["uid"] == DATASOURCE_UID, where


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_datasource_variable_and_unique_panel_ids(uid):
    board = BOARDS[uid]
    variables = board["templating"]["list"]
    assert variables[0]["type"] == "datasource" and variables[0]["name"] == DATASOURCE_VARIABLE
    for variable in variables[1:]:
        assert variable.get("datasource", {}).get("uid") == DATASOURCE_UID, variable["name"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and all(ids)
    assert uid.startswith("florai-") and len(uid) <= 40  # Grafana's uid limit


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.where)
def test_every_target_uses_the_datasource_variable(query):
    assert query.datasource == {"type": "prometheus", "uid": DATASOURCE_UID}


def query_problems(expr: str) -> list[str]:
    """What is wrong with one dashboard query: windows not $__rate_interval, a pinned replica."""
    problems = []
    resolved = resolve_variables(expr)
    if not metric_names(resolved):
        problems.append("selects no metric")
    windowed = [c for c in _calls(expr) if c.func.name in WINDOWED]
    # Resolving $__rate_interval to a marker window shows which windows come from it.
    if resolve_variables(expr, {"__rate_interval": "17s"}).count("[17s]") != len(windowed):
        problems.append(f"a window is not {RATE_INTERVAL}")
    pinned: list[str] = []

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            pinned.extend(m.name for m in node.matchers.matchers if m.name in REPLICA_LABELS)

    promql_parser.walk(promql_parser.parse(resolved), visit)
    problems += [f"selects on {label}" for label in pinned]
    return problems


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.where)
def test_query_parses_uses_rate_interval_and_pins_no_replica(query):
    assert query_problems(query.expr) == [], query.where


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("sum(rate(florai_http_requests_total[5m]))", f"a window is not {RATE_INTERVAL}"),
        ('sum(florai_model_loaded{instance="10.0.0.1:8000"})', "selects on instance"),
        ('max(florai_model_loaded{pod=~"$pod"})', "selects on pod"),
        ("vector(1)", "selects no metric"),
    ],
)
def test_lint_catches_bad_queries(expr, problem):
    assert problem in query_problems(expr)
