"""The API's error model: every refusal is JSON ``{"detail": message, "code": reason}``.

``code`` is also the ``reason`` label of REJECTED_REQUESTS, so a dashboard and a client
read the same word.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from florai.metrics import REJECTED_REQUESTS

log = logging.getLogger(__name__)

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


class ApiError(StarletteHTTPException):
    """An expected refusal with a status, a machine-readable code and a message for the client."""

    def __init__(self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        if code in REJECTION_REASONS:
            REJECTED_REQUESTS.labels(reason=code).inc()


def too_large(message: str) -> ApiError:
    return ApiError(413, "too_large", message)


def unsupported_media(message: str) -> ApiError:
    return ApiError(415, "unsupported_media", message)


def invalid_image(message: str) -> ApiError:
    return ApiError(422, "invalid_image", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def unavailable(code: str, message: str, retry_after_s: int) -> ApiError:
    return ApiError(503, code, message, headers={"Retry-After": str(retry_after_s)})


def error_body(code: str, message: object) -> dict[str, object]:
    return {"detail": message, "code": code}


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


async def _api_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = getattr(exc, "code", None) or _STATUS_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
    return JSONResponse(error_body("invalid_request", errors), status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only real bugs land here; the tests prove that no bad input does.
    log.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse(error_body("internal", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
