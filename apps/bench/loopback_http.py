"""A lean HTTP/1.1 keep-alive client for the load generator.

The client shares the machine's two CPUs with the server under test, so every millisecond it
spends is taken from the service being measured; this one sends pre-built request bytes over
asyncio streams and reads only the status line, the headers it needs and the body, at a fraction
of a general-purpose client's CPU cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json


class HttpError(RuntimeError):
    """The server answered something that is not a well-formed HTTP/1.1 response."""


class KeepAliveConnection:
    """One persistent connection; requests on it are sequential (HTTP/1.1 without pipelining)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Send one POST; return (status, body). Reconnects once if the server closed the connection."""
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        for attempt in (1, 2):
            if self._writer is None:
                await self._connect()
            try:
                self._writer.write(request)
                return await self._read_response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, bytes]:
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        length, close = None, False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding":
                raise HttpError("chunked responses are not expected from the service")
        if length is None:
            raise HttpError("response without Content-Length")
        body = await self._reader.readexactly(length)
        if close:
            await self.close()
        return int(parts[1]), body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


def predictions_of(body: bytes) -> list[dict]:
    """The predictions of an identify response (used to spot-check that answers are real)."""
    return json.loads(body)["predictions"]
