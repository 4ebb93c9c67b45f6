"""Client input never makes a server error: fields that are not UTF-8 are a malformed body (400), a
client that hangs up mid-upload is not a server error, and every 4xx a route answers is in the
OpenAPI document under that route."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from florai import contract
from florai.api import create_app
from florai.api.errors import CLIENT_CLOSED_REQUEST

API = contract.API_PREFIX
BOUNDARY = "client-errors-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart_body(fields: dict[str, bytes], image: bytes | None) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in fields.items()
    ]
    if image is not None:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n".encode()
            + image
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("field", ["organ", "lat", "lon"])
def test_fields_that_are_not_utf8_are_a_malformed_body(client, dev_headers, make_png, field):
    fields = {"organ": b"leaf", "lat": b"10", "lon": b"20"} | {field: b"\xff\xfe\xc3("}
    r = client.post(
        f"{API}/identify",
        content=multipart_body(fields, make_png()),
        headers={**dev_headers, "content-type": MULTIPART},
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_multipart")
    assert f"field {field!r} is not UTF-8 text" in r.json()["detail"]


def http_requests(status: str) -> float:
    labels = {"route": f"{API}/identify", "method": "POST", "status": status}
    return REGISTRY.get_sample_value("florai_http_requests_total", labels) or 0.0


def test_a_client_that_hangs_up_mid_upload_is_not_a_server_error(
    make_settings, dev_headers, make_png, caplog
):
    app = create_app(make_settings(services=("identify",)))
    body = multipart_body({}, make_png())
    sent: list[dict] = []

    async def scenario() -> None:
        chunks = [
            {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> dict:
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        headers = [
            (k.lower().encode(), v.encode()) for k, v in {**dev_headers, "content-type": MULTIPART}.items()
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": f"{API}/identify",
            "raw_path": f"{API}/identify".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    server_errors = http_requests("500")
    asyncio.run(scenario())
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST
    assert http_requests("500") == server_errors and http_requests(str(CLIENT_CLOSED_REQUEST)) >= 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def bad_requests(method: str, path: str, make_png) -> list[dict]:  # noqa: ANN001
    """Requests a client gets wrong, for one route."""
    wrong = [
        {"headers": {contract.API_KEY_HEADER: "flk_unknown"}},
        {"params": {"k": "0", "limit": "0", "before_id": str(2**64), "task": "weather", "explain": "maybe"}},
        {"headers": {"content-length": str(contract.MAX_REQUEST_BYTES + 1)}, "content": b"x"},
    ]
    if method in ("POST", "PUT"):
        wrong += [
            {"content": b"\x00 not json", "headers": {"content-type": "application/json"}},
            {"content": b"--nope", "headers": {"content-type": MULTIPART}},
            {
                "content": multipart_body({"organ": b"\xff"}, make_png()),
                "headers": {"content-type": MULTIPART},
            },
            {"content": b"plain", "headers": {"content-type": "text/plain"}},
            {"files": {"file": ("a.png", b"not an image", "image/png")}},
            {"files": [("files", ("a.png", b"x", "image/png"))] * (contract.MAX_BATCH_ITEMS + 1)},
            {"json": {"image_base64": "###", "store_images": "maybe", "expected_version": 99}},
            {"json": {"items": []}},
        ]
    return wrong


def test_every_4xx_a_route_answers_is_documented(serve, dev_headers, make_png):
    seen: dict[tuple[str, str], set[int]] = {}
    with serve(rate_limit_per_s=0.001, rate_limit_burst=1000, inference_worker="thread") as client:
        schema = client.get("/openapi.json").json()
        routes = [
            (method.upper(), path)
            for path, operations in schema["paths"].items()
            if path.startswith(API)
            for method in operations
        ]
        assert len(routes) >= 10
        for method, template in routes:
            path = template.replace("{species_id}", "no-such").replace("{disease_id}", "no-such")
            path = path.replace("{plant_type}", "no-such")
            statuses = seen.setdefault((method, template), set())
            for request in bad_requests(method, path, make_png):
                headers = {**dev_headers, **request.pop("headers", {})}
                statuses.add(client.request(method, path, headers=headers, **request).status_code)
            statuses.add(client.request(method, path).status_code)  # no credentials
    with serve(rate_limit_per_s=0.001, rate_limit_burst=1, inference_worker="thread") as limited:
        for method, template in routes:
            path = (
                template.replace("{species_id}", "x")
                .replace("{disease_id}", "x")
                .replace("{plant_type}", "x")
            )
            for _ in range(2):
                seen[(method, template)].add(limited.request(method, path, headers=dev_headers).status_code)
    undocumented = {
        (method, template, status)
        for (method, template), statuses in seen.items()
        for status in statuses
        if 400 <= status < 500 and str(status) not in schema["paths"][template][method.lower()]["responses"]
    }
    assert undocumented == set()
    assert all(500 not in statuses for statuses in seen.values())
    answered = {status for statuses in seen.values() for status in statuses}
    assert {400, 401, 404, 413, 415, 422, 429} <= answered
