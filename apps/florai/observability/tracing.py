"""OpenTelemetry traces: a tracer provider with the OTLP/HTTP exporter, only when OTEL_* asks for it.

The exporter reads the standard variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, headers,
timeout); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name the resource.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

log = logging.getLogger(__name__)
tracer = trace.get_tracer("florai")
DEFAULT_SERVICE_NAME = "florai"


def tracing_enabled(env: dict[str, str] | None = None) -> bool:
    """True when the standard OTEL_* variables ask for trace export."""
    env = os.environ if env is None else env
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the global tracer provider (once); ``exporter`` replaces OTLP (tests use an in-memory one)."""
    if exporter is None and not tracing_enabled():
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        if exporter is not None:
            current.add_span_processor(BatchSpanProcessor(exporter))
        return current
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME", DEFAULT_SERVICE_NAME)
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    log.info("tracing enabled", extra={"otel_service_name": name})
    return provider


def instrument_app(app: FastAPI) -> None:
    """FastAPI server spans for every route except health and metrics scrapes."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from florai import contract

    excluded = ",".join((contract.HEALTH_PATH, contract.READY_PATH, contract.METRICS_PATH))
    FastAPIInstrumentor.instrument_app(app, excluded_urls=excluded)
