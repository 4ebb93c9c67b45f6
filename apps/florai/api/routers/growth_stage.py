"""The growth-stage service: POST /growth-stage and GET /growth-stages/{plant_type}."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request

from florai import contract
from florai.api.dependencies import CallerDep, RuntimeDep, rate_limited
from florai.api.errors import not_found
from florai.api.openapi_bodies import image_upload_body
from florai.api.routers.inference_route import ERROR_RESPONSES, TopK, run_single
from florai.api.schemas import PredictionResponse
from florai.catalogue import PlantGrowth, UnknownIdError

router = APIRouter(tags=["growth-stage"], responses=ERROR_RESPONSES)


@router.post("/growth-stage", response_model=PredictionResponse, openapi_extra=image_upload_body())
async def growth_stage(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    k: int = TopK,
) -> PredictionResponse:
    """Top-k generic growth stages of the plant in a photo."""
    _, outcome = await run_single(request, principal, contract.TASK_GROWTH_STAGE, k, background)
    return outcome.response


@router.get("/growth-stages/{plant_type}", response_model=PlantGrowth, dependencies=[Depends(rate_limited)])
def get_growth_stages(runtime: RuntimeDep, plant_type: str) -> PlantGrowth:
    try:
        return runtime.catalogue.growth_stages[plant_type]
    except UnknownIdError as exc:
        raise not_found(str(exc)) from None
