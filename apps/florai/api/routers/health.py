"""Probes and metrics: /healthz (process alive), /readyz (models + database), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.concurrency import run_in_threadpool

from florai import contract
from florai.api.dependencies import RuntimeDep
from florai.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get(contract.HEALTH_PATH, response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get(contract.READY_PATH, response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = await run_in_threadpool(runtime.readiness_checks)
    not_ready = sorted(name for name, state in checks.items() if state != "ok")
    body = Readiness(status="not ready" if not_ready else "ready", checks=checks, not_ready=not_ready)
    return JSONResponse(body.model_dump(), status_code=503 if not_ready else 200)


@router.get(contract.METRICS_PATH, include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
