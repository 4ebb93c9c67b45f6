"""The service contract: every name, port, path and limit other parts of the repo rely on.

The Pulumi program (WAF body-size rule), the Kubernetes manifests (ports, probes,
Ingress body limit), the alerts and the dashboards import or are tested against
these values. This module must stay import-light (standard library only).
"""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/api/v1"
HTTP_PORT = 8000
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
# The API's documentation, served with its own assets (no CDN): works offline and under a strict CSP.
OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
DOCS_ASSETS_PATH = "/docs/assets"

MIB = 1024 * 1024
# Largest request body any route accepts (a full /batch call); the WAF body-size rule
# and the Ingress body limit are derived from this number.
MAX_REQUEST_BYTES = 25 * MIB
# Largest single image inside a request.
MAX_IMAGE_BYTES = 10 * MIB
# Largest decoded image (width x height); more is treated as a decompression bomb.
MAX_IMAGE_PIXELS = 40_000_000
# Most images one POST /batch call may carry.
MAX_BATCH_ITEMS = 16
# Most pixels (width x height, as the images' headers declare them) one request may carry in all.
MAX_REQUEST_PIXELS = 200_000_000
# Rate-limit tokens are charged by work: one per image, one more per this many pixels beyond the first.
PIXELS_PER_TOKEN = 12_000_000
# Largest request head (request line and headers) the server reads; more is refused with 431.
MAX_HEADER_BYTES = 32 * 1024
# Classes a prediction may return (``k``); the workers compute this many once.
DEFAULT_TOP_K = 5
MAX_TOP_K = 10

API_KEY_HEADER = "X-API-Key"

# Inference tasks and the model each one serves.
TASK_IDENTIFY = "identify"
TASK_DIAGNOSE = "diagnose"
TASK_GROWTH_STAGE = "growth-stage"
TASKS = (TASK_IDENTIFY, TASK_DIAGNOSE, TASK_GROWTH_STAGE)


@dataclass(frozen=True)
class Service:
    """One Deployment of the shared image; ``FLORAI_SERVICES`` selects it at start."""

    name: str
    gpu: bool
    tasks: tuple[str, ...]
    description: str


SERVICES: tuple[Service, ...] = (
    Service("identify", True, (TASK_IDENTIFY,), "plant species from a photo"),
    Service("diagnose", True, (TASK_DIAGNOSE,), "plant disease diagnosis with Grad-CAM"),
    Service("growth-stage", True, (TASK_GROWTH_STAGE,), "growth-stage estimate"),
    Service("consent", False, (), "per-user image consent, audit and usage"),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)
