"""API refusals as sentences a person can act on (the API's JSON error: ``detail`` and ``code``)."""

from __future__ import annotations

from florai import contract

MIB = contract.MIB


class ApiCallError(Exception):
    """A call to the API did not give a result; ``message`` is what the page shows."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _detail_text(detail: object) -> str:
    if isinstance(detail, list):  # FastAPI validation errors: [{"loc": [...], "msg": ...}, ...]
        return "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in detail)
    return str(detail) if detail else ""


def retry_after_s(headers: dict[str, str]) -> int | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    return int(value) if value and value.strip().isdigit() else None


# A 401/403 when calls carry the UI's service key (no sign-in): nothing the person can do about it.
KEY_REFUSED = (
    "The FlorAI service refused this web UI's key (FLORAI_UI_API_KEY is wrong or was revoked). "
    "Tell the operators; they put a new one in the UI's credentials."
)


def readable(status: int, body: object, headers: dict[str, str], *, signed_in: bool = True) -> ApiCallError:
    """The ApiCallError for one refused call: what happened and what to do, in one or two sentences.

    ``signed_in``: the call carried the person's own token (sign-in), not the UI's service key."""
    detail = body.get("detail") if isinstance(body, dict) else body
    code = body.get("code") if isinstance(body, dict) else None
    text = _detail_text(detail)
    wait = retry_after_s(headers)
    retry = f"Try again in {wait} s." if wait is not None else "Try again in a moment."
    if status == 413:
        message = (
            f"This photo is too large: the limit is {contract.MAX_IMAGE_BYTES // MIB} MiB per image "
            f"and {contract.MAX_REQUEST_BYTES // MIB} MiB per upload. Choose a smaller photo."
        )
    elif status == 415:
        message = "This file is not an image we can read. Upload a JPEG, PNG or WebP photo."
    elif status == 422 and code == "too_many_items":
        message = f"Too many photos at once: at most {contract.MAX_BATCH_ITEMS} per batch. ({text})"
    elif status == 422 and code == "invalid_image":
        message = f"This image is damaged or incomplete and could not be decoded ({text}). Try another photo."
    elif status == 422:
        message = f"The request was not accepted: {text}"
    elif status == 429:
        message = f"Too many requests from your account. {retry}"
    elif status == 503 and code == "model_unavailable":
        message = f"This analysis is not available right now (its model is not loaded). {retry}"
    elif status == 503:
        message = f"The service is busy. {retry}"
    elif status in (401, 403) and not signed_in:
        message = KEY_REFUSED
    elif status in (401, 403):
        message = "You are not signed in, or your session expired. Sign in again."
    elif status == 404:
        message = f"Not found: {text}"
    else:
        message = f"The service answered with an error ({status}). Try again later."
    return ApiCallError(message, status=status, code=code)


def unreachable(reason: str) -> ApiCallError:
    return ApiCallError(f"The FlorAI service cannot be reached right now ({reason}). Try again later.")


def timed_out(seconds: float) -> ApiCallError:
    message = f"The FlorAI service did not answer within {seconds:g} s. Try again later."
    return ApiCallError(message, code="timeout")
