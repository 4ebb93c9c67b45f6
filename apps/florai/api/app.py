"""The app factory: ``create_app(settings)`` wires routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from florai import contract
from florai.api.bodies import COMPONENTS
from florai.api.body_limit import BodySizeLimitMiddleware
from florai.api.docs import install_docs
from florai.api.errors import install_error_handlers
from florai.api.request_metrics import RequestMetricsMiddleware, RouteTemplates
from florai.api.routers import batch, consent, diagnose, growth_stage, health, identify
from florai.api.security_headers import install_browser_policy
from florai.catalogue import load_catalogue
from florai.observability import configure_tracing, instrument_app, tracing_enabled
from florai.services.runtime import Runtime
from florai.services.wiring import build_runtime
from florai.settings import Settings, load_settings
from florai.storage import Database, upgrade

log = logging.getLogger(__name__)

# Which router serves which Deployment (contract.SERVICES); /batch goes with any inference service.
SERVICE_ROUTERS = {
    "identify": identify.router,
    "diagnose": diagnose.router,
    "growth-stage": growth_stage.router,
    "consent": consent.router,
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await start_runtime(settings)
        app.state.runtime = runtime
        freeze_startup_heap()
        try:
            yield
        finally:
            log.info("draining", extra={"timeout_s": settings.drain_timeout_s})
            await runtime.drain(settings.drain_timeout_s)
            await asyncio.to_thread(runtime.close)
            gc.unfreeze()  # what start-up allocated may be collected again (tests start many apps)
            log.info("stopped")

    app = FastAPI(
        # Traces come from opentelemetry-instrumentation-fastapi (florai.observability, only when
        # OTEL_* is set); FastAPI's own telemetry stays off instead of checking for a tracer
        # provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="FlorAI",
        version="1.0.0",
        description="Plant identification, disease diagnosis, growth stage and consent. Services: "
        + ", ".join(settings.services),
        lifespan=lifespan,
        docs_url=None,  # florai.api.docs serves both pages from the image's own files
        redoc_url=None,
    )
    install_docs(app, app.title)
    templates = RouteTemplates()
    templates.add(route.path for route in app.routes if hasattr(route, "path"))  # docs and schema
    routers = [SERVICE_ROUTERS[name] for name in settings.services] + (
        [batch.router] if settings.tasks else []
    )
    app.include_router(health.router)
    templates.add_router(health.router)
    for router in routers:
        app.include_router(router, prefix=contract.API_PREFIX)
        templates.add_router(router, contract.API_PREFIX)
    install_error_handlers(app)
    install_browser_policy(app, settings.cors_origins)
    # Added last = outermost: metrics see every response, including the body-limit 413.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=contract.MAX_REQUEST_BYTES)
    app.add_middleware(RequestMetricsMiddleware, templates=templates)
    if tracing_enabled():
        configure_tracing()
        instrument_app(app)
    app.openapi = lambda: _openapi(app)
    return app


def freeze_startup_heap() -> None:
    """Move everything start-up allocated (the catalogue, pydantic and FastAPI models) out of the
    cyclic collector's reach. Those objects live as long as the process, yet every oldest-generation
    collection scanned them all while the event loop waited: measured at concurrency 32 on this
    repository's VM, 66-270 ms per collection, one every few seconds. Requests' own garbage is still
    collected as before."""
    gc.collect()
    gc.freeze()


async def start_runtime(settings: Settings) -> Runtime:
    """Migrate the database, build the services, start the engines and the background work."""
    database = Database(settings.effective_database_url)
    await asyncio.to_thread(upgrade, database.engine)
    runtime = await asyncio.to_thread(build_runtime, settings, load_catalogue(), database)
    await runtime.load_models()
    runtime.start_background()
    return runtime


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, value in COMPONENTS.items():
            components.setdefault(name, value)
        app.openapi_schema = schema
    return app.openapi_schema
