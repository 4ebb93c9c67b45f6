"""Grafana dashboards as code: Python sources -> committed JSON -> sidecar ConfigMaps."""
