"""The application's refusals, as domain errors: what went wrong, in words a client can act on.

Each class carries a ``code`` (the machine-readable reason a client and a dashboard read); the HTTP
status each one becomes is decided in one place, florai.api.errors. Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    """An expected refusal: ``code`` names the reason, the message says what to do about it."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Seconds after which the same request may succeed (load shedding, rate limits, outages).
        self.retry_after_s = retry_after_s


class MalformedBodyError(ServiceError):
    """The body is not the multipart/form-data it claims to be."""

    code = "invalid_multipart"


class UnsupportedMediaError(ServiceError):
    """A body or image in a format the service does not take."""

    code = "unsupported_media"


class InvalidImageError(ServiceError):
    """An image that cannot be used: empty, corrupt, truncated, or a decompression bomb."""

    code = "invalid_image"


class TooLargeError(ServiceError):
    """A body, an image or a request's declared pixels over the contract's limits."""

    code = "too_large"


class TooManyItemsError(ServiceError):
    """More images in one /batch call than contract.MAX_BATCH_ITEMS."""

    code = "too_many_items"


class UnknownTaskError(ServiceError):
    """A /batch task this deployment does not serve."""

    code = "unknown_task"


class NotFoundError(ServiceError):
    """An id the catalogue does not know."""

    code = "not_found"


class InvalidConsentError(ServiceError):
    """A consent change the consent service refuses."""

    code = "invalid_consent"


class ConsentConflictError(ServiceError):
    """The settings changed since the version the caller named."""

    code = "conflict"


class UnauthenticatedError(ServiceError):
    """No credentials, or credentials that do not verify."""

    code = "unauthorized"


class RateLimitedError(ServiceError):
    """The caller's token bucket (or its address's failed-authentication bucket) is empty."""

    code = "rate_limited"


class QueueFullError(ServiceError):
    """The task's inference queue is at capacity, or draining."""

    code = "queue_full"


class ModelUnavailableError(ServiceError):
    """The task's model did not load on this instance."""

    code = "model_unavailable"


class InferenceFailedError(ServiceError):
    """The forward pass of the batch this image was in failed (the worker lives on)."""

    code = "inference_failed"


class StorageUnavailableError(ServiceError):
    """The consent database cannot be reached right now."""

    code = "database_unavailable"


class ImageStoreUnavailableError(ServiceError):
    """Kept images cannot be deleted right now (the image store did not answer)."""

    code = "image_store_unavailable"
