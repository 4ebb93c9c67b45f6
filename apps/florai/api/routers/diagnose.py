"""The diagnose service: POST /diagnose (optional Grad-CAM overlay) and GET /diseases/{disease_id}."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request

from florai import contract
from florai.api.dependencies import CallerDep, RuntimeDep, rate_limited, runtime_of
from florai.api.errors import not_found
from florai.api.openapi_bodies import image_upload_body
from florai.api.prediction import explain
from florai.api.routers.inference_route import ERROR_RESPONSES, TopK, run_single
from florai.api.schemas import DiagnosisResponse
from florai.catalogue import Disease, UnknownIdError

router = APIRouter(tags=["diagnose"], responses=ERROR_RESPONSES)


@router.post("/diagnose", response_model=DiagnosisResponse, openapi_extra=image_upload_body())
async def diagnose(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    k: int = TopK,
    explain_top: bool = Query(False, alias="explain", description="add a Grad-CAM overlay of the top class"),
) -> DiagnosisResponse:
    """Top-k plant diseases (PlantVillage classes) in a photo."""
    upload, outcome = await run_single(request, principal, contract.TASK_DIAGNOSE, k, background)
    if explain_top:
        return await explain(runtime_of(request), contract.TASK_DIAGNOSE, outcome, upload)
    return DiagnosisResponse(**outcome.response.model_dump())


@router.get("/diseases/{disease_id}", response_model=Disease, dependencies=[Depends(rate_limited)])
def get_disease(runtime: RuntimeDep, disease_id: str) -> Disease:
    try:
        return runtime.catalogue.diseases[disease_id]
    except UnknownIdError as exc:
        raise not_found(str(exc)) from None
