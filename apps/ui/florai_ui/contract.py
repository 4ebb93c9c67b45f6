"""The UI's own contract: its ports, paths and metric names, defined once.

The manifests (apps/deploy/ui), the alerts (alerts/rules/ui.yaml), the dashboard and the tests
import or are tested against these values. Standard library only, like florai.contract.
"""

from __future__ import annotations

from florai import contract as api_contract

# Streamlit's default port; the Service, the Ingress and the NetworkPolicy use it.
UI_PORT = 8501
# prometheus_client's own HTTP server inside the Streamlit process (the ServiceMonitor's port).
METRICS_PORT = 9501
# Streamlit's built-in health endpoint (probes) and its websocket (the page's only channel).
HEALTH_PATH = "/_stcore/health"
STREAM_PATH = "/_stcore/stream"

# Streamlit's upload limit in MiB, from the API's largest request (a full /batch call).
MAX_UPLOAD_MIB = api_contract.MAX_REQUEST_BYTES // api_contract.MIB

# Seconds the UI waits for the API before it gives up on a call (the alert fires from 5 s).
API_TIMEOUT_S = 30.0
API_CONNECT_TIMEOUT_S = 3.0

# Metric names (florai_ui.metrics defines them; alerts and dashboards select them).
METRIC_PREFIX = "florai_ui"
PAGE_RENDER_METRIC = "florai_ui_page_render_seconds"
API_CALL_METRIC = "florai_ui_api_call_duration_seconds"
API_ERRORS_METRIC = "florai_ui_api_errors_total"
# The API_ERRORS_METRIC reasons that are the service's failures, not the person's (a bad photo's 413,
# 415 or 422 is not one): the error-rate alert and the canary select these (a PromQL regex).
SERVICE_FAILURE_REASONS = "5..|429|timeout|unreachable"
# The deployment guide's thresholds: the alerts fire above them, the canary fails above them.
PAGE_RENDER_P95_MAX_S = 3
API_ERROR_RATIO_MAX = 0.005
# Labels of the UI's pods and container (manifests, alerts, dashboard).
APP_NAME = "florai-ui"
CONTAINER_NAME = "florai-ui"

# The one API route that erases a user's data; the UI offers it only when the API's OpenAPI has it.
ERASURE_PATH = f"{api_contract.API_PREFIX}/consent/data"
OPENAPI_PATH = "/openapi.json"
