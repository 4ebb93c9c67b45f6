"""Labels the scrape attaches and the rules rely on, written once.

The Prometheus Operator's ServiceMonitor scrape adds ``namespace``, ``service`` (the
Kubernetes Service name), ``pod``, ``container``, ``endpoint`` and ``job`` to every app series.
Each app service runs behind a Kubernetes Service named ``florai-<service>``, so SLOs select
``service="florai-<service>"``; the manifests name their Services the same way.
"""

from __future__ import annotations

from florai.contract import SERVICE_NAMES
from florai_infra.names import NAMESPACE_APPS

SERVICE_LABEL = "service"
NAMESPACE_LABEL = "namespace"
SEVERITIES = ("page", "ticket")


def service_label_value(service: str) -> str:
    """Value of the ``service`` label for one app service, e.g. ``florai-identify``."""
    if service not in SERVICE_NAMES:
        raise ValueError(f"unknown service {service!r}: expected one of {', '.join(SERVICE_NAMES)}")
    return f"florai-{service}"


APP_NAMESPACE = NAMESPACE_APPS
