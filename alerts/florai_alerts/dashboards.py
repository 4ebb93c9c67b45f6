"""The one pattern every alert's dashboard_url is built from: the Grafana dashboard of its area.

``/d/<uid>``: a path on the environment's Grafana (kube-prometheus-stack's, in namespace monitoring),
where the dashboards of dashboards/ are loaded under these uids (florai_dashboards.boards).
"""

from __future__ import annotations

from florai_dashboards.boards import datastores, gitops, gpu, models, overview, slo, ui

# Rule file (alerts/rules/<stem>.yaml, or the generated SLO rules) -> the dashboard of that area.
DASHBOARD_OF_RULES = {
    "slos": slo.UID,
    "inference": models.UID,
    "kubernetes": overview.UID,
    "edge": overview.UID,
    "gpu": gpu.UID,
    "datastores": datastores.UID,
    "gitops": gitops.UID,
    "ui": ui.UID,
}


def dashboard_url(rules: str) -> str:
    """``/d/<uid>`` of the dashboard for the alerts of rule file ``rules``."""
    return f"/d/{DASHBOARD_OF_RULES[rules]}"
