"""Metric route labels: the matched template, never the raw path; remembered paths stay bounded."""

from __future__ import annotations

from florai.api import request_metrics
from florai.api.request_metrics import UNMATCHED_ROUTE, RouteTemplates


def templates() -> RouteTemplates:
    routes = RouteTemplates()
    routes.add(["/healthz", "/api/v1/species/{species_id}", "/api/v1/identify"])
    return routes


def test_paths_map_to_their_template_and_unknown_paths_share_one_label():
    routes = templates()
    for _ in range(2):  # the second time from the remembered paths
        assert routes.match("/api/v1/species/tomato") == "/api/v1/species/{species_id}"
        assert routes.match("/api/v1/identify") == "/api/v1/identify"
        assert routes.match("/healthz") == "/healthz"
        assert routes.match("/api/v1/nope") == UNMATCHED_ROUTE


def test_remembered_paths_are_bounded(monkeypatch):
    monkeypatch.setattr(request_metrics, "MAX_REMEMBERED_PATHS", 8)
    routes = templates()
    for n in range(100):
        assert routes.match(f"/api/v1/species/s{n}") == "/api/v1/species/{species_id}"
        assert len(routes._seen) <= 8


def test_adding_templates_forgets_earlier_answers():
    routes = templates()
    assert routes.match("/metrics") == UNMATCHED_ROUTE
    routes.add(["/metrics"])
    assert routes.match("/metrics") == "/metrics"
