"""Bad input is refused with the right status and message, and the worker serves the next request."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from florai import contract

API = contract.API_PREFIX


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def bad_images(make_png) -> dict[str, bytes]:
    gif = io.BytesIO()
    Image.new("RGB", (32, 32)).save(gif, "GIF")
    return {
        "corrupt": b"\x00\x01garbage that is no image" * 10,
        "truncated": make_png((200, 30, 30), (400, 400))[:300],
        # 10000 x 5000 one-bit pixels: a few KB of PNG declaring 50 M pixels (> MAX_IMAGE_PIXELS).
        "bomb": _png(Image.new("1", (10_000, 5_000))),
        "gif": gif.getvalue(),
    }


def _follow_up_is_served(client, headers, make_png):
    r = client.post(
        f"{API}/identify", files={"file": ("ok.png", make_png((7, 8, 9)), "image/png")}, headers=headers
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("corrupt", 422, "invalid_image", "not a recognisable image"),
        ("truncated", 422, "invalid_image", "corrupt or truncated"),
        ("bomb", 422, "invalid_image", "pixels"),
        ("gif", 415, "unsupported_media", "GIF images are not accepted"),
    ],
)
@pytest.mark.parametrize("encoding", ["multipart", "json"])
def test_bad_images(client, dev_headers, make_png, bad_images, kind, status, code, message, encoding):
    data = bad_images[kind]
    if encoding == "multipart":
        r = client.post(f"{API}/identify", files={"file": ("x.png", data, "image/png")}, headers=dev_headers)
    else:
        r = client.post(
            f"{API}/diagnose", json={"image_base64": base64.b64encode(data).decode()}, headers=dev_headers
        )
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert message in r.json()["detail"]
    _follow_up_is_served(client, dev_headers, make_png)


def test_request_body_over_the_limit_declared_and_streamed(client, dev_headers, make_png):
    big = b"\0" * (contract.MAX_REQUEST_BYTES + 1)
    r = client.post(
        f"{API}/identify", content=big, headers={**dev_headers, "content-type": "application/json"}
    )
    assert r.status_code == 413 and "exceeds the limit of 26214400 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the middleware counts the streamed bytes
        for _ in range(26):
            yield b"\0" * contract.MIB

    r = client.post(
        f"{API}/identify", content=chunks(), headers={**dev_headers, "content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    _follow_up_is_served(client, dev_headers, make_png)


def test_image_over_the_per_image_limit(client, dev_headers, make_png):
    big = b"\x89PNG" + b"\0" * contract.MAX_IMAGE_BYTES
    r = client.post(f"{API}/identify", files={"file": ("big.png", big, "image/png")}, headers=dev_headers)
    assert r.status_code == 413 and f"limit of {contract.MAX_IMAGE_BYTES} bytes" in r.json()["detail"]
    r = client.post(
        f"{API}/identify", json={"image_base64": base64.b64encode(big).decode()}, headers=dev_headers
    )
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    _follow_up_is_served(client, dev_headers, make_png)


def test_unsupported_media_types(client, dev_headers, make_png):
    r = client.post(
        f"{API}/identify", content=b"hello", headers={**dev_headers, "content-type": "text/plain"}
    )
    assert r.status_code == 415 and "'text/plain' is not accepted" in r.json()["detail"]
    r = client.post(f"{API}/identify", files={"file": ("a.txt", b"hello", "text/plain")}, headers=dev_headers)
    assert r.status_code == 415 and "content type 'text/plain'" in r.json()["detail"]
    _follow_up_is_served(client, dev_headers, make_png)


def test_request_validation(client, dev_headers, make_png):
    png = base64.b64encode(make_png()).decode()
    cases = [
        (f"{API}/identify?k=11", {"image_base64": png}, "k"),
        (f"{API}/identify?k=0", {"image_base64": png}, "k"),
        (f"{API}/identify", {"image_base64": "###"}, None),
        (f"{API}/identify", {"image_base64": png, "organ": "root"}, "organ"),
        (f"{API}/identify", {"image_base64": png, "location": {"lat": 91, "lon": 0}}, "lat"),
        (f"{API}/identify", {"picture": png}, "image_base64"),
        (f"{API}/batch?task=weather", {"items": [{"image_base64": png}]}, None),
    ]
    for url, body, field in cases:
        r = client.post(url, json=body, headers=dev_headers)
        assert r.status_code == 422, (url, r.text)
        if field:
            assert field in str(r.json()["detail"]), (url, r.text)
    r = client.post(
        f"{API}/identify", content=b"{not json", headers={**dev_headers, "content-type": "application/json"}
    )
    assert r.status_code == 422
    r = client.post(
        f"{API}/identify", files={"other": ("a.png", make_png(), "image/png")}, headers=dev_headers
    )
    assert r.status_code == 422 and "'file'" in str(r.json()["detail"])
    _follow_up_is_served(client, dev_headers, make_png)


def test_too_many_batch_items(client, dev_headers, make_png):
    png = base64.b64encode(make_png()).decode()
    n = contract.MAX_BATCH_ITEMS + 1
    r = client.post(
        f"{API}/batch?task=identify", json={"items": [{"image_base64": png}] * n}, headers=dev_headers
    )
    assert r.status_code == 422 and r.json()["code"] == "too_many_items"
    assert f"at most {contract.MAX_BATCH_ITEMS}" in r.json()["detail"]
    files = [("files", (f"{i}.png", make_png(), "image/png")) for i in range(n)]
    r = client.post(f"{API}/batch?task=identify", files=files, headers=dev_headers)
    assert r.status_code == 422 and r.json()["code"] == "too_many_items"
    _follow_up_is_served(client, dev_headers, make_png)


def test_unknown_ids_are_404(client, dev_headers):
    for path, kind in (("species", "species"), ("diseases", "disease"), ("growth-stages", "")):
        r = client.get(f"{API}/{path}/no-such-thing", headers=dev_headers)
        assert r.status_code == 404 and "no-such-thing" in r.json()["detail"] and kind in r.json()["detail"]
    assert client.get(f"{API}/nothing-here", headers=dev_headers).status_code == 404


def test_no_request_reached_the_catch_all(client):
    # raise_server_exceptions would already have failed a test; the metrics agree.
    metrics = client.get(contract.METRICS_PATH).text
    assert 'status="500"' not in metrics
    for reason in ("too_large", "unsupported_media", "invalid_image", "too_many_items"):
        assert f'florai_rejected_requests_total{{reason="{reason}"}}' in metrics
