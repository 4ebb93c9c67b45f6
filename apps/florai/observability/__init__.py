"""Observability wiring: JSON logs with trace ids and OpenTelemetry traces (OTLP when configured)."""

from florai.observability.logs import REQUEST_ID, configure_logging, uvicorn_log_config
from florai.observability.tracing import configure_tracing, instrument_app, tracer, tracing_enabled

__all__ = [
    "REQUEST_ID",
    "configure_logging",
    "configure_tracing",
    "instrument_app",
    "tracer",
    "tracing_enabled",
    "uvicorn_log_config",
]
