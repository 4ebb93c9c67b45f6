"""Every Prometheus metric the service exports, defined once.

Alerts, recording rules, dashboards and canary analyses use these names; the metric
contract test in tests/ parses their queries and checks each name against
``EXPORTED`` below (plus the declared external exporters).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "florai"

# Seconds; covers a cached hit (~1 ms) up to a cold GPU batch or a CPU fallback.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.5, 2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)

HTTP_REQUESTS = Counter(
    "florai_http_requests",
    "HTTP requests handled, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "florai_http_request_duration_seconds",
    "HTTP request latency from first byte received to response sent.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "florai_http_requests_in_flight",
    "HTTP requests being handled right now (an autoscaling signal).",
    ["route"],
)
INFERENCE_DURATION = Histogram(
    "florai_inference_duration_seconds",
    "Model forward time of one batch (excludes queueing and decoding).",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
INFERENCE_QUEUE_WAIT = Histogram(
    "florai_inference_queue_wait_seconds",
    "Time a request waited in the batcher queue before its batch started.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
INFERENCE_BATCH_SIZE = Histogram(
    "florai_inference_batch_size",
    "Images per forward pass taken by the dynamic batcher.",
    ["model"],
    buckets=BATCH_SIZE_BUCKETS,
)
INFERENCE_QUEUE_DEPTH = Gauge(
    "florai_inference_queue_depth",
    "Images waiting in the batcher queue.",
    ["model"],
)
INFERENCE_QUEUE_CAPACITY = Gauge(
    "florai_inference_queue_capacity",
    "Bound of the batcher queue; beyond it requests are shed with 503.",
    ["model"],
)
PREDICTION_CONFIDENCE = Histogram(
    "florai_prediction_confidence",
    "Top-1 probability of each prediction (a drift signal when its distribution moves).",
    ["model"],
    buckets=CONFIDENCE_BUCKETS,
)
MODEL_INFO = Gauge(
    "florai_model_info",
    "Loaded model artifacts (value 1), labelled with name, version, task and device.",
    ["model", "version", "task", "device"],
)
MODEL_LOADED = Gauge(
    "florai_model_loaded",
    "1 when the model for a task is loaded and serving, 0 otherwise.",
    ["model"],
)
MODEL_LOAD_FAILURES = Counter(
    "florai_model_load_failures",
    "Model artifact load failures, by reason (checksum, missing, invalid).",
    ["model", "reason"],
)
CACHE_HITS = Counter(
    "florai_prediction_cache_hits",
    "Predictions answered from the cache (keyed by image hash and model version).",
    ["model"],
)
CACHE_MISSES = Counter(
    "florai_prediction_cache_misses",
    "Predictions not in the cache.",
    ["model"],
)
REJECTED_REQUESTS = Counter(
    "florai_rejected_requests",
    "Requests refused before inference, by reason "
    "(rate_limited, queue_full, too_large, unsupported_media, invalid_image, too_many_items, unauthorized).",
    ["reason"],
)
CONSENT_CHANGES = Counter(
    "florai_consent_changes",
    "Consent settings changed by users, by setting and new value.",
    ["setting", "value"],
)
IMAGES_RETAINED = Counter(
    "florai_images_retained",
    "Images kept in the model store because their owner consented.",
    ["task"],
)

# --- The backup-age exporter (python -m florai.exporters.backup_age): a separate process of the same
# image that polls the RDS API. The service never sets these, so they export no samples there.
BACKUP_LAST_SUCCESS = Gauge(
    "florai_backup_last_success_timestamp_seconds",
    "Creation time (Unix seconds) of the newest available snapshot, automated or manual, of an RDS instance.",
    ["dbinstance_identifier"],
)
BACKUP_LATEST_RESTORABLE = Gauge(
    "florai_backup_latest_restorable_timestamp_seconds",
    "LatestRestorableTime (Unix seconds) of an RDS instance: the newest point-in-time restore target.",
    ["dbinstance_identifier"],
)
BACKUP_EXPORTER_UP = Gauge(
    "florai_backup_exporter_up",
    "1 when the last RDS poll of an instance succeeded, 0 when it failed (gauges keep their last value).",
    ["dbinstance_identifier"],
)
BACKUP_POLL_ERRORS = Counter(
    "florai_backup_exporter_errors",
    "Failed RDS polls, by instance and reason (instance_not_found, api_error, no_snapshot).",
    ["dbinstance_identifier", "reason"],
)

# Name of every series family (the service's and the exporter's) the app exports, as it appears in PromQL.
_COUNTERS = (
    HTTP_REQUESTS,
    MODEL_LOAD_FAILURES,
    CACHE_HITS,
    CACHE_MISSES,
    REJECTED_REQUESTS,
    CONSENT_CHANGES,
    IMAGES_RETAINED,
)
_HISTOGRAMS = (
    HTTP_REQUEST_DURATION,
    INFERENCE_DURATION,
    INFERENCE_QUEUE_WAIT,
    INFERENCE_BATCH_SIZE,
    PREDICTION_CONFIDENCE,
)
_GAUGES = (HTTP_IN_FLIGHT, INFERENCE_QUEUE_DEPTH, INFERENCE_QUEUE_CAPACITY, MODEL_INFO, MODEL_LOADED)
_EXPORTER_COUNTERS = (BACKUP_POLL_ERRORS,)
_EXPORTER_GAUGES = (BACKUP_LAST_SUCCESS, BACKUP_LATEST_RESTORABLE, BACKUP_EXPORTER_UP)


def _exported_names() -> frozenset[str]:
    names: set[str] = set()
    for c in (*_COUNTERS, *_EXPORTER_COUNTERS):
        names |= {f"{c._name}_total", f"{c._name}_created"}
    for h in _HISTOGRAMS:
        names |= {f"{h._name}_bucket", f"{h._name}_sum", f"{h._name}_count", f"{h._name}_created"}
    for g in (*_GAUGES, *_EXPORTER_GAUGES):
        names.add(g._name)
    return frozenset(names)


EXPORTED: frozenset[str] = _exported_names()
