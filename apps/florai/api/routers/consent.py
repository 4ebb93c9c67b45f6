"""The consent service: the caller's own consent settings, their audit log, image usage, and the
erasure of their images.

The user is always the authenticated principal; no route takes a user id, so nobody can read or
change another user's data.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query

from florai.api.dependencies import LimitedCallerDep, RuntimeDep
from florai.api.errors import responses_for
from florai.api.schemas import (
    AuditEntry,
    AuditResponse,
    ConsentResponse,
    ConsentUpdate,
    ErasureResponse,
    UsageResponse,
)
from florai.consent.service import MAX_AUDIT_PAGE
from florai.services import errors
from florai.services.consent import ConsentAccess

router = APIRouter(prefix="/consent", tags=["consent"])
# Largest id the audit log can hold (a BIGINT): a page start beyond it is refused, not sent to the database.
MAX_AUDIT_ID = 2**63 - 1
READ_ERRORS = (
    errors.UnauthenticatedError,
    errors.RateLimitedError,
    errors.StorageUnavailableError,
    errors.TooLargeError,
)


def consent_of(runtime: RuntimeDep) -> ConsentAccess:
    assert runtime.consent is not None  # the consent router is mounted only with the consent service
    return runtime.consent


@router.get("", response_model=ConsentResponse, responses=responses_for(*READ_ERRORS))
async def get_consent(principal: LimitedCallerDep, runtime: RuntimeDep) -> ConsentResponse:
    return ConsentResponse(**asdict(await consent_of(runtime).get(principal.user_id)))


@router.put(
    "",
    response_model=ConsentResponse,
    responses=responses_for(*READ_ERRORS, errors.ConsentConflictError, errors.InvalidConsentError),
)
async def put_consent(
    principal: LimitedCallerDep, runtime: RuntimeDep, body: ConsentUpdate
) -> ConsentResponse:
    """Change settings; without ``expected_version`` the change always applies. Withdrawing
    ``store_images`` deletes the images kept so far (within FLORAI_IMAGE_SWEEP_INTERVAL_S)."""
    changes = body.model_dump(exclude_none=True, exclude={"expected_version"})
    settings = await consent_of(runtime).update(principal.user_id, changes, body.expected_version)
    return ConsentResponse(**asdict(settings))


@router.get("/audit", response_model=AuditResponse, responses=responses_for(*READ_ERRORS))
async def get_audit(
    principal: LimitedCallerDep,
    runtime: RuntimeDep,
    limit: int = Query(50, ge=1, le=MAX_AUDIT_PAGE),
    before_id: int | None = Query(
        None, ge=1, le=MAX_AUDIT_ID, description="page: the smallest id already seen"
    ),
) -> AuditResponse:
    entries = await consent_of(runtime).audit(principal.user_id, limit, before_id)
    return AuditResponse(
        user_id=principal.user_id,
        entries=[AuditEntry(**{k: v for k, v in asdict(e).items() if k != "user_id"}) for e in entries],
    )


@router.get("/usage", response_model=UsageResponse, responses=responses_for(*READ_ERRORS))
async def get_usage(principal: LimitedCallerDep, runtime: RuntimeDep) -> UsageResponse:
    return UsageResponse.model_validate(asdict(await consent_of(runtime).usage(principal.user_id)))


@router.delete(
    "/data",
    response_model=ErasureResponse,
    responses=responses_for(*READ_ERRORS, errors.ImageStoreUnavailableError),
)
async def erase_data(principal: LimitedCallerDep, runtime: RuntimeDep) -> ErasureResponse:
    """Erase the caller's kept images and every record of the images they sent (an audit entry
    ``data_erased`` records it; consent settings and the audit log stay)."""
    erased = await consent_of(runtime).erase(principal.user_id)
    return ErasureResponse(user_id=principal.user_id, **asdict(erased))
