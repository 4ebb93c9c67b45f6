"""The growth-stage service: POST /growth-stage and GET /growth-stages/{plant_type}."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from florai import contract
from florai.api.bodies import IMAGE_BODY
from florai.api.dependencies import CallerDep, LimitedCallerDep, RuntimeDep
from florai.api.routers.inference_route import LOOKUP_RESPONSES, UPLOAD_RESPONSES, TopK, run_single
from florai.api.schemas import PredictionResponse
from florai.catalogue import PlantGrowth

router = APIRouter(tags=["growth-stage"])


@router.post(
    "/growth-stage", response_model=PredictionResponse, responses=UPLOAD_RESPONSES, openapi_extra=IMAGE_BODY
)
async def growth_stage(
    request: Request, principal: CallerDep, background: BackgroundTasks, k: int = TopK
) -> PredictionResponse:
    """Top-k generic growth stages of the plant in a photo."""
    response, _ = await run_single(request, principal, contract.TASK_GROWTH_STAGE, k, background)
    return response


@router.get("/growth-stages/{plant_type}", response_model=PlantGrowth, responses=LOOKUP_RESPONSES)
def get_growth_stages(runtime: RuntimeDep, _: LimitedCallerDep, plant_type: str) -> PlantGrowth:
    return runtime.catalogue.growth_stages[plant_type]
