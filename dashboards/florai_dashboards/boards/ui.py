"""Web UI: what people see (page render time), the UI's view of the API, and its pods' memory."""

from __future__ import annotations

from florai_dashboards.panels import (
    NAMESPACE_VARIABLE,
    RATE_INTERVAL,
    Query,
    graph,
    label_variable,
    new_dashboard,
    row,
)

UID = "florai-ui"
# The UI's own series (apps/ui/florai_ui/contract.py; external here: see alerts/external-metrics.yaml).
PAGE_RENDER_BUCKET = "florai_ui_page_render_seconds_bucket"
PAGE_RENDER_COUNT = "florai_ui_page_render_seconds_count"
API_CALL_BUCKET = "florai_ui_api_call_duration_seconds_bucket"
API_CALL_COUNT = "florai_ui_api_call_duration_seconds_count"
API_ERRORS = "florai_ui_api_errors_total"
# The kubelet's and kube-state-metrics' view of the UI container.
MEMORY = "container_memory_working_set_bytes"
MEMORY_LIMIT = "kube_pod_container_resource_limits"
UI = f'namespace=~"${NAMESPACE_VARIABLE}"'
CONTAINER = f'{UI}, container="florai-ui"'


def _rate(series: str) -> str:
    return f"rate({series}{{{UI}}}[{RATE_INTERVAL}])"


def build():
    return (
        new_dashboard(
            UID,
            "FlorAI / Web UI",
            "The Streamlit web UI: page render time, its API calls as it sees them, failures and memory.",
            [label_variable(NAMESPACE_VARIABLE, "namespace", PAGE_RENDER_COUNT)],
        )
        .with_row(row("Web UI"))
        .with_panel(
            graph(
                "Page render time",
                "p50 and p95 time to render the page once (one click); the alert fires above 3 s.",
                "s",
                Query(f"histogram_quantile(0.95, sum by (le) ({_rate(PAGE_RENDER_BUCKET)}))", "p95"),
                Query(f"histogram_quantile(0.5, sum by (le) ({_rate(PAGE_RENDER_BUCKET)}))", "p50"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "API call time by route (p95)",
                "p95 duration of the UI's calls to each API route; the alert fires above 5 s.",
                "s",
                Query(
                    f"histogram_quantile(0.95, sum by (le, route) ({_rate(API_CALL_BUCKET)}))", "{{route}}"
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Failed API calls",
                "Share of the UI's API calls that failed (5xx, 429, timeout, unreachable); alert at 0.5 %.",
                "percentunit",
                Query(
                    f'sum(rate({API_ERRORS}{{{UI}, reason=~"5..|429|timeout|unreachable"}}[{RATE_INTERVAL}]))'
                    f" / sum({_rate(API_CALL_COUNT)})",
                    "failed",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "API call outcomes",
                "UI API calls per second by route and reason of failure (a bad photo's 4xx included).",
                "reqps",
                Query(f"sum by (route, reason) ({_rate(API_ERRORS)})", "{{route}} {{reason}}"),
                Query(f"sum by (route) ({_rate(API_CALL_COUNT)})", "{{route}} all"),
                width=12,
            )
        )
        .with_panel(
            graph(
                "Memory of the UI pods",
                "Working set over the memory limit, highest pod; the alert fires above 70 %.",
                "percentunit",
                Query(
                    f"max(max by (pod) ({MEMORY}{{{CONTAINER}}})"
                    f' / on (pod) max by (pod) ({MEMORY_LIMIT}{{{CONTAINER}, resource="memory"}}))',
                    "highest pod",
                ),
                width=12,
            )
        )
    )
