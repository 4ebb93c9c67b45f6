"""Model view: per-model inference latency, the confidence distribution (drift signal), inventory."""

from __future__ import annotations

from florai import metrics as m
from florai_dashboards.panels import (
    APP_SELECTOR,
    RATE_INTERVAL,
    Query,
    app_variables,
    bucket,
    counter,
    graph,
    listing,
    metric_name,
    new_dashboard,
    quantile,
    rate,
    row,
    single,
)

UID = "florai-models"
# Confidence below this bound counts as a low-confidence prediction (a bucket of CONFIDENCE_BUCKETS).
LOW_CONFIDENCE = 0.5


def build():
    confidence = bucket(m.PREDICTION_CONFIDENCE)
    predictions = metric_name(m.PREDICTION_CONFIDENCE, "_count")
    low = f'{APP_SELECTOR}, le="{LOW_CONFIDENCE}"'
    return (
        new_dashboard(
            UID,
            "FlorAI / Models",
            "Per-model inference latency, prediction confidence (a drift signal) and loaded artifacts.",
            app_variables(metric_name(m.MODEL_LOADED)),
        )
        .with_row(row("Serving state"))
        .with_panel(
            single(
                "Models loaded",
                "1 when the model of a task is loaded and serving, 0 when it failed to load.",
                "bool",
                Query(f"min by (model) ({metric_name(m.MODEL_LOADED)}{{{APP_SELECTOR}}})", "{{model}}"),
                width=12,
            )
        )
        .with_panel(
            graph(
                "Model load failures by reason",
                "Artifact load failures (checksum, missing, invalid) in each interval.",
                "short",
                Query(
                    f"sum by (model, reason) (increase({counter(m.MODEL_LOAD_FAILURES)}"
                    f"{{{APP_SELECTOR}}}[{RATE_INTERVAL}]))",
                    "{{model}} {{reason}}",
                ),
            )
        )
        .with_panel(
            listing(
                "Loaded model artifacts",
                "Name, version, task and device of every loaded model artifact, per pod.",
                "short",
                Query(
                    f"max by (model, version, task, device) ({metric_name(m.MODEL_INFO)}{{{APP_SELECTOR}}})"
                ),
            )
        )
        .with_row(row("Latency"))
        .with_panel(
            graph(
                "Inference latency p95 by model",
                "95th percentile of the model forward time of one batch.",
                "s",
                Query(quantile(0.95, m.INFERENCE_DURATION, by="model"), "{{model}}"),
            )
        )
        .with_panel(
            graph(
                "Queue wait p95 by model",
                "95th percentile of the time a request waited for its batch to start.",
                "s",
                Query(quantile(0.95, m.INFERENCE_QUEUE_WAIT, by="model"), "{{model}}"),
            )
        )
        .with_row(row("Prediction confidence (drift)"))
        .with_panel(
            graph(
                "Median top-1 confidence by model",
                "Median top-1 probability; a lasting move means the input or the model drifted.",
                "percentunit",
                Query(quantile(0.5, m.PREDICTION_CONFIDENCE, by="model"), "{{model}}"),
            )
        )
        .with_panel(
            graph(
                "Low-confidence share by model",
                f"Share of predictions whose top-1 probability is at most {LOW_CONFIDENCE}.",
                "percentunit",
                Query(
                    f"sum by (model) ({rate(confidence, low)}) / sum by (model) ({rate(predictions)})",
                    "{{model}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Confidence distribution",
                "Predictions per second in each top-1 probability bucket (cumulative, all models).",
                "reqps",
                Query(f"sum by (le) ({rate(confidence)})", "le {{le}}"),
                width=24,
            )
        )
    )
