"""uvicorn's httptools protocol with a bound on the request head (request line and headers).

httptools buffers a header until it ends, and uvicorn keeps every header: without a bound a client
can make the server hold tens of megabytes per connection before the app sees the request. Bytes
received while a request's head is incomplete are counted; past contract.MAX_HEADER_BYTES the
connection gets 431 and is closed.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from florai import contract

_BODY = json.dumps(
    {
        "detail": f"request headers exceed the limit of {contract.MAX_HEADER_BYTES} bytes",
        "code": "headers_too_large",
    }
).encode()
HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _BODY
)


class BoundedHeadersProtocol(HttpToolsProtocol):
    _head_bytes = 0
    _in_head = True  # until a request's headers are complete, and again once it is done
    _ended = False  # a head or a message ended in the chunk being parsed: its bytes are not all head

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        self._in_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._ended = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._ended = True
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        self._ended = False
        super().data_received(data)
        if self._in_head and not self._ended and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > contract.MAX_HEADER_BYTES:
                self.transport.write(HEADERS_TOO_LARGE)
                self.transport.close()
