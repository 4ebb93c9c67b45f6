"""Logs: the apps' recent warnings and errors from CloudWatch Logs, each linked to the trace behind it.

The pods' logs reach the stack's log group through Fluent Bit (argocd/addons/fluent-bit.yaml); the
app writes one JSON object per line with trace_id (florai.observability.logs), so a row's trace_id opens
that request's trace in Tempo. The CloudWatch data source (kube-prometheus-stack's Grafana) has the
stack's log group as its default, so the query names none.
"""

from __future__ import annotations

import json
import urllib.parse

from grafana_foundation_sdk.builders import cloudwatch, dashboard, table
from grafana_foundation_sdk.models import cloudwatch as cloudwatch_model
from grafana_foundation_sdk.models import dashboard as model

from florai_dashboards.panels import DATASOURCE_VARIABLE, TAGS
from florai_infra.names import NAMESPACE_APPS

UID = "florai-logs"
# Grafana's Tempo data source uid (kube-prometheus-stack values, grafana.additionalDataSources).
TEMPO_UID = "tempo"
TRACE_FIELD = "trace_id"
CLOUDWATCH = model.DataSourceRef(type_val="cloudwatch", uid="${" + DATASOURCE_VARIABLE + "}")
QUERY = (
    f"fields @timestamp, level, logger, message, request_id, {TRACE_FIELD}"
    f" | filter kubernetes.namespace_name = '{NAMESPACE_APPS}' and level in ['WARNING', 'ERROR', 'CRITICAL']"
    " | sort @timestamp desc | limit 200"
)


def trace_link() -> str:
    """Explore URL opening the trace whose id is the clicked value, in Tempo."""
    pane = {
        "datasource": TEMPO_UID,
        "queries": [
            {
                "refId": "A",
                "datasource": {"type": "tempo", "uid": TEMPO_UID},
                "queryType": "traceql",
                "query": "${__value.raw}",
            }
        ],
        "range": {"from": "now-1h", "to": "now"},
    }
    panes = urllib.parse.quote(json.dumps({"trace": pane}, separators=(",", ":")), safe="${}.")
    return f"/explore?schemaVersion=1&panes={panes}"


def build():
    errors = (
        table.Panel()
        .title("Recent warnings and errors of the apps")
        .description(
            "The newest 200 WARNING/ERROR lines of the florai namespace; a trace_id opens its trace."
        )
        .unit("none")
        .datasource(CLOUDWATCH)
        .grid_pos(model.GridPos(h=16, w=24, x=0, y=0))
        .with_target(
            cloudwatch.CloudWatchLogsQuery()
            .ref_id("A")
            .query_mode(cloudwatch_model.CloudWatchQueryMode.LOGS)
            .region("default")
            .expression(QUERY)
        )
        .override_by_name(
            TRACE_FIELD,
            [
                model.DynamicConfigValue(
                    id_val="links", value=[{"title": "Open the trace", "url": trace_link()}]
                )
            ],
        )
    )
    return (
        dashboard.Dashboard("FlorAI / Logs")
        .uid(UID)
        .description("The apps' recent warnings and errors from CloudWatch Logs, each linked to its trace.")
        .tags(list(TAGS))
        .time("now-1h", "now")
        .refresh("1m")
        .timezone("browser")
        .readonly()
        .with_variable(
            dashboard.DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("cloudwatch")
        )
        .with_panel(errors)
    )
