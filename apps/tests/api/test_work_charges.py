"""Work is paid for: rate-limit tokens are charged by images and pixels, a request's declared pixels are
bounded before any decoding, and failed authentication is limited per client address before it costs
a database lookup."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image
from prometheus_client import REGISTRY

from florai import contract
from florai.security import ApiKeyStore
from florai.settings import Settings

API = contract.API_PREFIX


@cache
def png_of_pixels(width: int, height: int) -> bytes:
    """A flat grey PNG: megapixels that cost a few KB on the wire."""
    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, "PNG")
    return out.getvalue()


def batches_run() -> float:
    model = "identify"
    return REGISTRY.get_sample_value("florai_inference_batch_size_count", {"model": model}) or 0.0


def test_a_batch_declaring_too_many_pixels_is_refused_before_decoding(client, dev_headers):
    forty_megapixels = png_of_pixels(8000, 5000)
    assert len(forty_megapixels) * contract.MAX_BATCH_ITEMS < 2 * contract.MIB  # cheap to send
    files = [("files", (f"{i}.png", forty_megapixels, "image/png")) for i in range(contract.MAX_BATCH_ITEMS)]
    before = batches_run()
    r = client.post(f"{API}/batch?task=identify", files=files, headers=dev_headers)
    assert (r.status_code, r.json()["code"]) == (413, "too_large")
    assert f"more than the limit of {contract.MAX_REQUEST_PIXELS}" in r.json()["detail"]
    assert batches_run() == before  # no worker spent a moment on it


def test_tokens_are_charged_by_images_and_pixels(serve, dev_headers, make_png):
    small = [
        ("files", (f"{i}.png", make_png((i, 2, 3)), "image/png")) for i in range(contract.MAX_BATCH_ITEMS)
    ]
    with serve(services=("identify",), rate_limit_per_s=0.001, rate_limit_burst=20) as client:
        first = client.post(f"{API}/batch?task=identify", files=small, headers=dev_headers)
        assert first.status_code == 200  # 16 tokens of 20
        second = client.post(f"{API}/batch?task=identify", files=small, headers=dev_headers)
        assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
        assert int(second.headers["retry-after"]) >= 1
    big = png_of_pixels(6000, 5000)  # 30 megapixels: three tokens' worth
    with serve(services=("identify",), rate_limit_per_s=0.001, rate_limit_burst=7) as client:
        upload = {"file": ("big.png", big, "image/png")}
        statuses = [
            client.post(f"{API}/identify", files=upload, headers=dev_headers).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]  # 3 + 3 of 7 tokens, then 1 left


def test_failed_authentication_is_limited_per_address_before_any_lookup(make_settings, monkeypatch):
    from fastapi.testclient import TestClient

    from florai.api import create_app

    lookups: list[str] = []
    verify = ApiKeyStore.verify

    def counting(store: ApiKeyStore, plaintext: str | None):  # noqa: ANN202
        lookups.append(plaintext or "")
        return verify(store, plaintext)

    monkeypatch.setattr(ApiKeyStore, "verify", counting)
    settings: Settings = make_settings(
        services=("consent",), auth_failure_burst=5, auth_failure_rate_per_s=0.001
    )
    owner = {contract.API_KEY_HEADER: settings.api_key.get_secret_value()}
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/consent", headers=owner).status_code == 200
        lookups.clear()
        statuses = [
            client.get(f"{API}/consent", headers={contract.API_KEY_HEADER: f"flk_guess-{n}"}).status_code
            for n in range(12)
        ]
        assert statuses == [401] * 5 + [429] * 7
        assert len(lookups) == 5  # refused guesses cost no database lookup
        refused = client.get(f"{API}/consent", headers={contract.API_KEY_HEADER: "flk_guess-x"})
        assert (
            refused.json()["code"] == "rate_limited" and "failed authentication" in refused.json()["detail"]
        )
        # A key verified before (cached) is not locked out by the guesses from its address.
        assert client.get(f"{API}/consent", headers=owner).status_code == 200
