"""The diagnose service: POST /diagnose (optional Grad-CAM overlay) and GET /diseases/{disease_id}."""

from __future__ import annotations

import base64

from fastapi import APIRouter, BackgroundTasks, Query, Request

from florai import contract
from florai.api.bodies import IMAGE_BODY
from florai.api.dependencies import CallerDep, LimitedCallerDep, RuntimeDep
from florai.api.routers.inference_route import LOOKUP_RESPONSES, UPLOAD_RESPONSES, TopK, run_single
from florai.api.schemas import DiagnosisResponse
from florai.catalogue import Disease

router = APIRouter(tags=["diagnose"])


@router.post(
    "/diagnose", response_model=DiagnosisResponse, responses=UPLOAD_RESPONSES, openapi_extra=IMAGE_BODY
)
async def diagnose(
    request: Request,
    principal: CallerDep,
    background: BackgroundTasks,
    k: int = TopK,
    explain: bool = Query(False, description="add a Grad-CAM overlay of the top class"),
) -> DiagnosisResponse:
    """Top-k plant diseases (PlantVillage classes) in a photo."""
    response, overlay = await run_single(request, principal, contract.TASK_DIAGNOSE, k, background, explain)
    if overlay is None:
        return DiagnosisResponse(**response.model_dump())
    return DiagnosisResponse(
        **response.model_dump(),
        heatmap_png_base64=base64.b64encode(overlay).decode("ascii"),
        explained_label=response.predictions[0].id,
    )


@router.get("/diseases/{disease_id}", response_model=Disease, responses=LOOKUP_RESPONSES)
def get_disease(runtime: RuntimeDep, _: LimitedCallerDep, disease_id: str) -> Disease:
    return runtime.catalogue.diseases[disease_id]
