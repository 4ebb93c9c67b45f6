"""The identify service: POST /identify and the species it names (GET /species/{species_id})."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from florai import contract
from florai.api.bodies import IMAGE_BODY
from florai.api.dependencies import CallerDep, LimitedCallerDep, RuntimeDep
from florai.api.routers.inference_route import LOOKUP_RESPONSES, UPLOAD_RESPONSES, TopK, run_single
from florai.api.schemas import PredictionResponse
from florai.catalogue import Species

router = APIRouter(tags=["identify"])


@router.post(
    "/identify", response_model=PredictionResponse, responses=UPLOAD_RESPONSES, openapi_extra=IMAGE_BODY
)
async def identify(
    request: Request, principal: CallerDep, background: BackgroundTasks, k: int = TopK
) -> PredictionResponse:
    """Top-k plant species in a photo."""
    response, _ = await run_single(request, principal, contract.TASK_IDENTIFY, k, background)
    return response


@router.get("/species/{species_id}", response_model=Species, responses=LOOKUP_RESPONSES)
def get_species(runtime: RuntimeDep, _: LimitedCallerDep, species_id: str) -> Species:
    return runtime.catalogue.species[species_id]
