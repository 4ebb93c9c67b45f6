"""The identify service: POST /identify and the species it names (GET /species/{species_id})."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request

from florai import contract
from florai.api.dependencies import CallerDep, RuntimeDep, rate_limited
from florai.api.errors import not_found
from florai.api.openapi_bodies import image_upload_body
from florai.api.routers.inference_route import ERROR_RESPONSES, TopK, run_single
from florai.api.schemas import PredictionResponse
from florai.catalogue import Species, UnknownIdError

router = APIRouter(tags=["identify"], responses=ERROR_RESPONSES)


@router.post("/identify", response_model=PredictionResponse, openapi_extra=image_upload_body())
async def identify(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    k: int = TopK,
) -> PredictionResponse:
    """Top-k plant species in a photo."""
    _, outcome = await run_single(request, principal, contract.TASK_IDENTIFY, k, background)
    return outcome.response


@router.get("/species/{species_id}", response_model=Species, dependencies=[Depends(rate_limited)])
def get_species(runtime: RuntimeDep, species_id: str) -> Species:
    try:
        return runtime.catalogue.species[species_id]
    except UnknownIdError as exc:
        raise not_found(str(exc)) from None
