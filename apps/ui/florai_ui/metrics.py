"""The UI's Prometheus metrics, served by prometheus_client on contract.METRICS_PORT.

Names come from florai_ui.contract; the alerts (alerts/rules/ui.yaml) and the UI dashboard select
them. The API route label is ``route``, not ``endpoint``: a ServiceMonitor sets that one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram, start_http_server

from florai_ui import contract

# Seconds: a page render (script run) and one API call as the UI sees it; both straddle the alerts'
# thresholds (3 s page, 5 s API call).
RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
API_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

PAGE_RENDER = Histogram(
    contract.PAGE_RENDER_METRIC,
    "Time to run the page script once (one render of the page for one user action).",
    ["view"],
    buckets=RENDER_BUCKETS,
)
API_CALL = Histogram(
    contract.API_CALL_METRIC,
    "One API call made by the UI, by API route and outcome (ok, the status code, timeout, unreachable).",
    ["route", "outcome"],
    buckets=API_BUCKETS,
)
API_ERRORS = Counter(
    contract.API_ERRORS_METRIC.removesuffix("_total"),
    "API calls by the UI that gave no result, by route and reason (the status code, timeout, unreachable).",
    ["route", "reason"],
)

_started = threading.Lock()
_server_port: int | None = None


def serve(port: int = contract.METRICS_PORT, addr: str = "0.0.0.0") -> int:
    """Start the metrics HTTP server once per process (the page script runs many times)."""
    global _server_port
    with _started:
        if _server_port is None:
            start_http_server(port, addr=addr)
            _server_port = port
        return _server_port


@contextmanager
def render_timer(view: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        PAGE_RENDER.labels(view=view).observe(time.perf_counter() - start)
