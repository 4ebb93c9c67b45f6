"""Building blocks every FlorAI dashboard shares: the datasource variable, selectors, panels.

Every target points at ``${datasource}``; every rate/increase window is ``$__rate_interval``;
app metric names come from ``florai.metrics`` objects, never typed by hand.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model
from prometheus_client.metrics import MetricWrapperBase

from florai_infra.names import NAMESPACE_APPS

DATASOURCE_VARIABLE = "datasource"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VARIABLE + "}")
RATE_INTERVAL = "$__rate_interval"
# Label-value variables of the app dashboards; queries select on them, never on a pod or instance.
NAMESPACE_VARIABLE = "namespace"
SERVICE_VARIABLE = "service"
APP_SELECTOR = f'namespace=~"${NAMESPACE_VARIABLE}", service=~"${SERVICE_VARIABLE}"'
TAGS = ("florai",)
REF_IDS = string.ascii_uppercase


def metric_name(metric: MetricWrapperBase, suffix: str = "") -> str:
    """The PromQL series name of an app metric (``_total``, ``_bucket``... given as ``suffix``)."""
    return metric.describe()[0].name + suffix


def counter(metric: MetricWrapperBase) -> str:
    return metric_name(metric, "_total")


def bucket(metric: MetricWrapperBase) -> str:
    return metric_name(metric, "_bucket")


def rate(series: str, selector: str = APP_SELECTOR) -> str:
    return f"rate({series}{{{selector}}}[{RATE_INTERVAL}])"


def quantile(q: float, histogram: MetricWrapperBase, by: str = "", selector: str = APP_SELECTOR) -> str:
    """``histogram_quantile`` over the buckets of an app histogram, kept apart by ``by`` labels."""
    labels = ", ".join(["le", *[b.strip() for b in by.split(",") if b.strip()]])
    return f"histogram_quantile({q}, sum by ({labels}) ({rate(bucket(histogram), selector)}))"


@dataclass(frozen=True)
class Query:
    """One panel target: a PromQL expression and its legend."""

    expr: str
    legend: str = ""


def _targets(queries: Sequence[Query]) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .expr(q.expr)
        .legend_format(q.legend or "__auto")
        .ref_id(REF_IDS[i])
        .datasource(DATASOURCE)
        for i, q in enumerate(queries)
    ]


def _finish(
    panel, title: str, description: str, unit: str, queries: Sequence[Query], width: int, height: int
):
    panel = panel.title(title).description(description).unit(unit).datasource(DATASOURCE)
    panel = panel.span(width).height(height)
    for target in _targets(queries):
        panel = panel.with_target(target)
    return panel


def graph(title: str, description: str, unit: str, *queries: Query, width: int = 12, height: int = 8):
    """A time series panel."""
    return _finish(timeseries.Panel(), title, description, unit, queries, width, height)


def single(title: str, description: str, unit: str, *queries: Query, width: int = 6, height: int = 5):
    """A stat panel (one number per series, its latest value)."""
    return _finish(stat.Panel(), title, description, unit, queries, width, height)


def listing(title: str, description: str, unit: str, *queries: Query, width: int = 24, height: int = 8):
    """A table panel of instant values (inventories such as the loaded models)."""
    panel = table.Panel()
    targets = [t.instant().format(prometheus_model.PromQueryFormat.TABLE) for t in _targets(queries)]
    panel = panel.title(title).description(description).unit(unit).datasource(DATASOURCE)
    panel = panel.span(width).height(height)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def datasource_variable() -> dashboard.DatasourceVariable:
    return dashboard.DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("prometheus")


def label_variable(name: str, label: str, series: str, selector: str = "") -> dashboard.QueryVariable:
    """A multi-select variable over the values of ``label`` on ``series`` (All by default)."""
    matcher = f"{{{selector}}}" if selector else ""
    return (
        dashboard.QueryVariable(name)
        .label(name.replace("_", " ").capitalize())
        .datasource(DATASOURCE)
        .query(f"label_values({series}{matcher}, {label})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


def app_variables(series: str) -> list[cogbuilder.Builder]:
    """The namespace and service variables of the app dashboards (``florai`` by default)."""
    namespace = label_variable(NAMESPACE_VARIABLE, "namespace", series).current(
        model.VariableOption(selected=True, text=NAMESPACE_APPS, value=NAMESPACE_APPS)
    )
    service = label_variable(SERVICE_VARIABLE, "service", series, f'namespace=~"${NAMESPACE_VARIABLE}"')
    return [namespace, service]


def new_dashboard(uid: str, title: str, description: str, variables: Sequence[cogbuilder.Builder] = ()):
    """A dashboard with the shared settings: stable uid, tags, time range, datasource variable first."""
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(list(TAGS))
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .readonly()
        .with_variable(datasource_variable())
    )
    for variable in variables:
        board = board.with_variable(variable)
    return board


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)
