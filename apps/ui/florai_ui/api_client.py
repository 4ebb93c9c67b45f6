"""The UI's only way out: server-side calls to the FlorAI API, each timed and counted.

Every failure becomes an ApiCallError with a readable message (florai_ui.api_errors); the page
shows ``problem.message`` and never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from florai import contract as api_contract
from florai_ui import contract
from florai_ui.api_errors import ApiCallError, readable, timed_out, unreachable
from florai_ui.metrics import API_CALL, API_ERRORS

API = api_contract.API_PREFIX
# The API service that serves each route (as the API's Ingress routes them); a batch goes to its task's.
SERVICE_OF_ROUTE = {
    "identify": "identify",
    "species": "identify",
    "diagnose": "diagnose",
    "diseases": "diagnose",
    "growth-stage": "growth-stage",
    "growth-stages": "growth-stage",
    "consent": "consent",
}
SERVICE_OF_TASK = {task: s.name for s in api_contract.SERVICES for task in s.tasks}


@dataclass(frozen=True)
class Photo:
    """One uploaded image, as the browser sent it."""

    name: str
    data: bytes
    mime: str = "application/octet-stream"


class ApiClient:
    """One user's view of the API: ``headers`` carry their credentials (API key or bearer token).

    ``base_url`` serves every route unless ``service_urls`` names the service that serves it.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout_s: float,
        service_urls: Mapping[str, str] | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self._base_url = base_url.rstrip("/")
        self._service_urls = {k: v.rstrip("/") for k, v in (service_urls or {}).items()}
        self._http = httpx.Client(
            headers=dict(headers),
            timeout=httpx.Timeout(timeout_s, connect=min(contract.API_CONNECT_TIMEOUT_S, timeout_s)),
        )

    def close(self) -> None:
        self._http.close()

    def _url(self, path: str, service: str | None) -> str:
        if service is None:
            service = SERVICE_OF_ROUTE[path.removeprefix(API + "/").split("/")[0]]
        return self._service_urls.get(service, self._base_url) + path

    def _call(self, route: str, method: str, path: str, service: str | None = None, **kwargs) -> object:
        start = time.perf_counter()
        try:
            response = self._http.request(method, self._url(path, service), **kwargs)
        except httpx.TimeoutException:
            self._count(route, start, "timeout")
            raise timed_out(self.timeout_s) from None
        except httpx.TransportError as exc:
            self._count(route, start, "unreachable")
            raise unreachable(type(exc).__name__) from None
        if response.status_code >= 400:
            self._count(route, start, str(response.status_code))
            try:
                body: object = response.json()
            except ValueError:
                body = response.text
            raise readable(
                response.status_code,
                body,
                dict(response.headers),
                signed_in="authorization" in {k.lower() for k in self._http.headers},
            )
        self._count(route, start, "ok")
        return response.json() if response.content else {}

    @staticmethod
    def _count(route: str, start: float, outcome: str) -> None:
        API_CALL.labels(route=route, outcome=outcome).observe(time.perf_counter() - start)
        if outcome != "ok":
            API_ERRORS.labels(route=route, reason=outcome).inc()

    # Inference.
    def predict(self, task: str, photo: Photo, k: int, *, explain: bool = False) -> dict:
        params: dict[str, object] = {"k": k}
        if explain:
            params["explain"] = "true"
        files = {"file": (photo.name, photo.data, photo.mime)}
        return self._call(task, "POST", f"{API}/{task}", params=params, files=files)

    def batch(self, task: str, photos: Sequence[Photo], k: int) -> dict:
        if len(photos) > api_contract.MAX_BATCH_ITEMS:
            raise ApiCallError(
                f"Too many photos at once: at most {api_contract.MAX_BATCH_ITEMS} per batch, "
                f"got {len(photos)}."
            )
        files = [("files", (p.name, p.data, p.mime)) for p in photos]
        params = {"task": task, "k": k}
        return self._call("batch", "POST", f"{API}/batch", SERVICE_OF_TASK[task], params=params, files=files)

    # Catalogue details.
    def species(self, species_id: str) -> dict:
        return self._call("species", "GET", f"{API}/species/{species_id}")

    def disease(self, disease_id: str) -> dict:
        return self._call("diseases", "GET", f"{API}/diseases/{disease_id}")

    def growth_stages(self, plant_type: str) -> dict:
        return self._call("growth-stages", "GET", f"{API}/growth-stages/{plant_type}")

    # Consent.
    def consent(self) -> dict:
        return self._call("consent", "GET", f"{API}/consent")

    def set_consent(self, *, store_images: bool, allow_training: bool, expected_version: int) -> dict:
        body = {
            "store_images": store_images,
            "allow_training": allow_training,
            "expected_version": expected_version,
        }
        return self._call("consent", "PUT", f"{API}/consent", json=body)

    def audit(self, limit: int = 50) -> dict:
        return self._call("consent-audit", "GET", f"{API}/consent/audit", params={"limit": limit})

    def usage(self) -> dict:
        return self._call("consent-usage", "GET", f"{API}/consent/usage")

    def offers_erasure(self) -> bool:
        """True when the API's OpenAPI document has ``DELETE`` on the erasure path."""
        document = self._call("openapi", "GET", contract.OPENAPI_PATH, "consent")
        paths = document.get("paths", {}) if isinstance(document, dict) else {}
        return "delete" in paths.get(contract.ERASURE_PATH, {})

    def erase(self) -> dict:
        return self._call("consent-erase", "DELETE", contract.ERASURE_PATH)
