"""Inference service overview: traffic, errors, latency, batching, queueing, cache, load shedding."""

from __future__ import annotations

from florai import metrics as m
from florai_dashboards.panels import (
    APP_SELECTOR,
    Query,
    app_variables,
    counter,
    graph,
    metric_name,
    new_dashboard,
    quantile,
    rate,
    row,
)

UID = "florai-overview"
REQUESTS = counter(m.HTTP_REQUESTS)
SERVER_ERRORS = f'{APP_SELECTOR}, status=~"5.."'


def build():
    hits, misses = rate(counter(m.CACHE_HITS)), rate(counter(m.CACHE_MISSES))
    return (
        new_dashboard(
            UID,
            "FlorAI / Inference overview",
            "Golden signals of the FlorAI inference services: request rate, errors, latency, "
            "batching, queue depth, cache and load shedding.",
            app_variables(REQUESTS),
        )
        .with_row(row("Traffic and errors"))
        .with_panel(
            graph(
                "Request rate by route",
                "Requests per second handled by each route template.",
                "reqps",
                Query(f"sum by (route) ({rate(REQUESTS)})", "{{route}}"),
            )
        )
        .with_panel(
            graph(
                "Server error ratio",
                "Share of requests answered with a 5xx status (the availability SLI).",
                "percentunit",
                Query(f"sum({rate(REQUESTS, SERVER_ERRORS)}) / sum({rate(REQUESTS)})", "5xx ratio"),
            )
        )
        .with_panel(
            graph(
                "Responses by status",
                "Requests per second by HTTP status code.",
                "reqps",
                Query(f"sum by (status) ({rate(REQUESTS)})", "{{status}}"),
            )
        )
        .with_panel(
            graph(
                "Rejections by reason",
                "Requests refused before inference (rate limit, full queue, bad input, auth).",
                "reqps",
                Query(f"sum by (reason) ({rate(counter(m.REJECTED_REQUESTS))})", "{{reason}}"),
            )
        )
        .with_row(row("Latency"))
        .with_panel(
            graph(
                "Request latency percentiles",
                "p50, p95 and p99 of the time from first byte received to response sent.",
                "s",
                Query(quantile(0.5, m.HTTP_REQUEST_DURATION), "p50"),
                Query(quantile(0.95, m.HTTP_REQUEST_DURATION), "p95"),
                Query(quantile(0.99, m.HTTP_REQUEST_DURATION), "p99"),
            )
        )
        .with_panel(
            graph(
                "p95 latency by route",
                "95th percentile request latency of each route template.",
                "s",
                Query(quantile(0.95, m.HTTP_REQUEST_DURATION, by="route"), "{{route}}"),
            )
        )
        .with_row(row("Batching and queueing"))
        .with_panel(
            graph(
                "Batch size by model",
                "Median and p95 images per forward pass taken by the dynamic batcher.",
                "short",
                Query(quantile(0.5, m.INFERENCE_BATCH_SIZE, by="model"), "p50 {{model}}"),
                Query(quantile(0.95, m.INFERENCE_BATCH_SIZE, by="model"), "p95 {{model}}"),
            )
        )
        .with_panel(
            graph(
                "Queue depth and capacity",
                "Images waiting in each batcher queue, against the bound beyond which requests are shed.",
                "short",
                Query(
                    f"sum by (model) ({metric_name(m.INFERENCE_QUEUE_DEPTH)}{{{APP_SELECTOR}}})", "{{model}}"
                ),
                Query(
                    f"max by (model) ({metric_name(m.INFERENCE_QUEUE_CAPACITY)}{{{APP_SELECTOR}}})",
                    "capacity {{model}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Requests in flight",
                "HTTP requests being handled right now, by route (the autoscaling signal).",
                "short",
                Query(f"sum by (route) ({metric_name(m.HTTP_IN_FLIGHT)}{{{APP_SELECTOR}}})", "{{route}}"),
            )
        )
        .with_panel(
            graph(
                "Prediction cache hit ratio",
                "Share of predictions answered from the cache, by model.",
                "percentunit",
                Query(
                    f"sum by (model) ({hits}) / (sum by (model) ({hits}) + sum by (model) ({misses}))",
                    "{{model}}",
                ),
            )
        )
    )
