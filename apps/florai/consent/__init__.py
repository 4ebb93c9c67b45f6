"""Consent: per-user settings with an append-only audit log, image usage, and the image store."""

from florai.consent.image_store import ImageStore, LocalImageStore, S3ImageStore, open_image_store
from florai.consent.retention import Retention, SentImage, retain_all, retain_if_consented
from florai.consent.service import ConsentConflictError, ConsentError, ConsentService, ImageUse
from florai.consent.settings import CONSENT_FIELDS, AuditEntry, ConsentSettings, TaskUsage, Usage

__all__ = [
    "CONSENT_FIELDS",
    "AuditEntry",
    "ConsentConflictError",
    "ConsentError",
    "ConsentService",
    "ConsentSettings",
    "ImageStore",
    "ImageUse",
    "LocalImageStore",
    "Retention",
    "S3ImageStore",
    "SentImage",
    "TaskUsage",
    "Usage",
    "open_image_store",
    "retain_all",
    "retain_if_consented",
]
