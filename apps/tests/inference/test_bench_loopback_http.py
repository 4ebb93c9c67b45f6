"""The bench's lean HTTP client against a real HTTP/1.1 server on loopback (uvicorn + a tiny ASGI app)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # apps/: the ``bench`` package

from bench.loopback_http import HttpError, KeepAliveConnection, predictions_of  # noqa: E402


async def echo_app(scope, receive, send):
    """Answers each POST with the body length, the request count on this connection and a header."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    payload = json.dumps(
        {"predictions": [{"id": "tomato"}], "length": len(body), "key": headers[b"x-api-key"].decode()}
    ).encode()
    status = 200 if scope["path"] == "/ok" else 404
    response_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": payload})


async def _with_server(scenario):
    config = uvicorn.Config(echo_app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        return await scenario(port)
    finally:
        server.should_exit = True
        await task


def test_keep_alive_posts_return_status_and_body():
    async def scenario(port):
        connection = KeepAliveConnection("127.0.0.1", port)
        try:
            answers = [await connection.post("/ok", {"X-API-Key": "k1"}, b"x" * n) for n in (0, 10, 70_000)]
            missing = await connection.post("/missing", {"X-API-Key": "k1"}, b"")
        finally:
            await connection.close()
        return answers, missing

    answers, missing = asyncio.run(_with_server(scenario))
    assert [status for status, _ in answers] == [200, 200, 200]
    assert [json.loads(body)["length"] for _, body in answers] == [0, 10, 70_000]
    assert all(json.loads(body)["key"] == "k1" for _, body in answers)
    assert predictions_of(answers[0][1]) == [{"id": "tomato"}]
    assert missing[0] == 404


def test_a_non_http_answer_is_an_error():
    async def scenario():
        async def garbage(reader, writer):
            await reader.read(100)
            writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = KeepAliveConnection("127.0.0.1", port)
        try:
            with pytest.raises(HttpError, match="status line"):
                await connection.post("/ok", {}, b"")
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())
