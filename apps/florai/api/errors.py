"""The one place domain errors become HTTP: every refusal is JSON ``{"detail": message, "code": reason}``.

``code`` is also the ``reason`` label of REJECTED_REQUESTS, so a dashboard and a client read the
same word. ``STATUS`` maps each domain error (florai.services.errors, the catalogue's unknown id) to
its status; the routes declare the same statuses in the OpenAPI document (``responses_for``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from florai.api.schemas import ErrorResponse
from florai.catalogue import UnknownIdError
from florai.metrics import REJECTED_REQUESTS
from florai.services import errors

log = logging.getLogger(__name__)

STATUS: dict[type[Exception], int] = {
    errors.MalformedBodyError: 400,
    errors.UnauthenticatedError: 401,
    errors.NotFoundError: 404,
    UnknownIdError: 404,
    errors.ConsentConflictError: 409,
    errors.TooLargeError: 413,
    errors.UnsupportedMediaError: 415,
    errors.InvalidImageError: 422,
    errors.TooManyItemsError: 422,
    errors.UnknownTaskError: 422,
    errors.InvalidConsentError: 422,
    errors.RateLimitedError: 429,
    errors.QueueFullError: 503,
    errors.ModelUnavailableError: 503,
    errors.InferenceFailedError: 503,
    errors.StorageUnavailableError: 503,
    errors.ImageStoreUnavailableError: 503,
}
# Reasons counted in REJECTED_REQUESTS (refused before inference).
REJECTION_REASONS = frozenset(
    {
        "rate_limited",
        "queue_full",
        "too_large",
        "unsupported_media",
        "invalid_image",
        "too_many_items",
        "unauthorized",
    }
)
# What a client that closed its connection before the response is counted as (nginx's convention):
# not a server error, and nobody is there to read it.
CLIENT_CLOSED_REQUEST = 499
UNAUTHORIZED_CHALLENGE = 'Bearer, ApiKey header="X-API-Key"'


def status_of(error: Exception) -> int:
    return next(status for kind, status in STATUS.items() if isinstance(error, kind))


def code_of(error: Exception) -> str:
    return getattr(error, "code", "not_found")


def error_body(code: str, message: object) -> dict[str, object]:
    return {"detail": message, "code": code}


def responses_for(*kinds: type[Exception]) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for a route that may raise ``kinds`` (and the request validation 422)."""
    statuses = {STATUS[kind] for kind in kinds} | {422}
    return {status: {"model": ErrorResponse} for status in sorted(statuses)}


def error_response(error: Exception) -> JSONResponse:
    code = code_of(error)
    if code in REJECTION_REASONS:
        REJECTED_REQUESTS.labels(reason=code).inc()
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, errors.UnauthenticatedError):
        headers["WWW-Authenticate"] = UNAUTHORIZED_CHALLENGE
    return JSONResponse(error_body(code, str(error)), status_code=status_of(error), headers=headers)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response(exc)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
    return JSONResponse(error_body("invalid_request", problems), status_code=422)


async def _client_disconnected(request: Request, _: ClientDisconnect) -> Response:
    log.info("client closed the connection before its request was read", extra={"path": request.url.path})
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only real bugs land here; the tests prove that no bad input does.
    log.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse(error_body("internal", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    for kind in STATUS:
        app.add_exception_handler(kind, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnected)
    app.add_exception_handler(Exception, _unexpected)
