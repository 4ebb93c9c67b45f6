"""The consent service: the caller's own consent settings, their audit log and image usage.

The user is always the authenticated principal; no route takes a user id, so nobody can
read or change another user's data.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from florai.api.dependencies import CallerDep, RuntimeDep
from florai.api.errors import ApiError, unavailable
from florai.api.schemas import (
    AuditEntry,
    AuditResponse,
    ConsentResponse,
    ConsentUpdate,
    ErrorResponse,
    UsageResponse,
)
from florai.consent.service import MAX_AUDIT_PAGE, ConsentConflictError, ConsentError
from florai.storage import DatabaseUnavailable

router = APIRouter(
    prefix="/consent",
    tags=["consent"],
    responses={s: {"model": ErrorResponse} for s in (401, 409, 422, 429, 503)},
)
# Seconds a client should wait before retrying while the database is away.
DATABASE_RETRY_AFTER_S = 5


async def _call(
    fn,
    *args,
    **kwargs,
):
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except DatabaseUnavailable:
        raise unavailable(
            "database_unavailable", "consent storage is unavailable; retry shortly", DATABASE_RETRY_AFTER_S
        ) from None
    except ConsentConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except ConsentError as exc:
        raise ApiError(422, "invalid_consent", str(exc)) from None


def _consent_response(settings) -> ConsentResponse:
    return ConsentResponse(**asdict(settings))


@router.get("", response_model=ConsentResponse)
async def get_consent(principal: CallerDep, runtime: RuntimeDep) -> ConsentResponse:
    return _consent_response(await _call(runtime.consent.get, principal.user_id))


@router.put("", response_model=ConsentResponse)
async def put_consent(principal: CallerDep, runtime: RuntimeDep, body: ConsentUpdate) -> ConsentResponse:
    changes = body.model_dump(exclude_none=True, exclude={"expected_version"})
    settings = await _call(
        runtime.consent.update,
        principal.user_id,
        principal.user_id,
        changes,
        expected_version=body.expected_version,
    )
    return _consent_response(settings)


@router.get("/audit", response_model=AuditResponse)
async def get_audit(
    principal: CallerDep,
    runtime: RuntimeDep,
    limit: int = Query(50, ge=1, le=MAX_AUDIT_PAGE),
    before_id: int | None = Query(None, ge=1, description="page: the smallest id already seen"),
) -> AuditResponse:
    entries = await _call(runtime.consent.audit, principal.user_id, limit=limit, before_id=before_id)
    return AuditResponse(
        user_id=principal.user_id,
        entries=[AuditEntry(**{k: v for k, v in asdict(e).items() if k != "user_id"}) for e in entries],
    )


@router.get("/usage", response_model=UsageResponse)
async def get_usage(principal: CallerDep, runtime: RuntimeDep) -> UsageResponse:
    usage = await _call(runtime.consent.usage, principal.user_id)
    return UsageResponse.model_validate(asdict(usage))
