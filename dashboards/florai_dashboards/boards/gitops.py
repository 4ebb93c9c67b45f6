"""GitOps: Argo CD application sync and health, sync operations and reconcile time."""

from __future__ import annotations

from florai_dashboards.panels import (
    RATE_INTERVAL,
    Query,
    graph,
    label_variable,
    listing,
    new_dashboard,
    row,
    single,
)

UID = "florai-gitops"
# Argo CD application-controller series (external: see alerts/external-metrics.yaml).
APP_INFO = "argocd_app_info"
SYNC_TOTAL = "argocd_app_sync_total"
RECONCILE_BUCKET = "argocd_app_reconcile_bucket"
PROJECT = 'project=~"$project"'
APP_LABELS = "name, project, dest_namespace, sync_status, health_status"


def build():
    return (
        new_dashboard(
            UID,
            "FlorAI / GitOps",
            "Argo CD: are the add-ons and the FlorAI apps of every environment synced and healthy.",
            [label_variable("project", "project", APP_INFO)],
        )
        .with_row(row("Applications"))
        .with_panel(
            single(
                "Applications by sync status",
                "Number of Argo CD applications in each sync status.",
                "short",
                Query(f"count by (sync_status) ({APP_INFO}{{{PROJECT}}})", "{{sync_status}}"),
                width=12,
            )
        )
        .with_panel(
            single(
                "Applications by health",
                "Number of Argo CD applications in each health status.",
                "short",
                Query(f"count by (health_status) ({APP_INFO}{{{PROJECT}}})", "{{health_status}}"),
                width=12,
            )
        )
        .with_panel(
            listing(
                "Applications not synced or not healthy",
                "Every application that is out of sync or not Healthy, with its destination.",
                "short",
                Query(
                    f'max by ({APP_LABELS}) ({APP_INFO}{{{PROJECT}, sync_status!="Synced"}}) '
                    f'or max by ({APP_LABELS}) ({APP_INFO}{{{PROJECT}, health_status!="Healthy"}})'
                ),
            )
        )
        .with_row(row("Operations"))
        .with_panel(
            graph(
                "Sync operations by phase",
                "Sync operations finished per interval, by application and phase (Succeeded, Failed, Error).",
                "short",
                Query(
                    f"sum by (name, phase) (increase({SYNC_TOTAL}{{{PROJECT}}}[{RATE_INTERVAL}]))",
                    "{{name}} {{phase}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Reconcile time p95",
                "95th percentile time the controller takes to reconcile an application.",
                "s",
                Query(
                    f"histogram_quantile(0.95, sum by (le) (rate({RECONCILE_BUCKET}[{RATE_INTERVAL}])))",
                    "p95",
                ),
            )
        )
    )
