"""The multipart parser against python-multipart (the streaming parser Starlette uses): on every body a
client library encodes, both find the same parts; and on any bytes at all (generated, or valid
bodies damaged), ours returns parts or a MultipartError, never anything else."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_multipart.multipart import MultipartParser, parse_options_header

from florai.api.multipart import MultipartError, Part, parse

# Deterministic (the same examples every run) and bounded, so the suite stays fast and repeatable.
EXAMPLES = settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
LIMITS = {"max_files": 64, "max_fields": 64, "max_field_bytes": 1 << 20}

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12)
filenames = st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-_ 0123456789", min_size=1, max_size=16)
media_types = st.sampled_from(["image/png", "image/jpeg", "application/octet-stream", "text/plain"])
payloads = st.binary(max_size=512) | st.sampled_from([b"", b"\r\n", b"--", b"\r\n--x", b"\xff\xd8\xff\xe0"])
fields = st.tuples(names, st.text(max_size=40))
files = st.tuples(names, filenames, payloads, media_types)


def reference_parts(body: bytes, content_type: str) -> list[tuple[str, str | None, str, bytes]]:
    """The parts python-multipart finds: (name, filename, media type, data)."""
    _, params = parse_options_header(content_type)
    parts: list[dict] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        parts.append({"headers": {}, "data": bytearray()})

    def field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def header_end() -> None:
        parts[-1]["headers"][header[0].lower()] = header[1]
        header[0], header[1] = b"", b""

    def data(chunk: bytes, start: int, end: int) -> None:
        parts[-1]["data"] += chunk[start:end]

    callbacks = {
        "on_part_begin": begin,
        "on_header_field": field,
        "on_header_value": value,
        "on_header_end": header_end,
        "on_part_data": data,
    }
    parser = MultipartParser(params[b"boundary"], callbacks, max_header_count=16)
    parser.write(body)
    parser.finalize()
    found = []
    for part in parts:
        _, disposition = parse_options_header(part["headers"][b"content-disposition"])
        media = parse_options_header(part["headers"].get(b"content-type", b""))[0].decode("latin-1").lower()
        filename = disposition.get(b"filename")
        found.append(
            (
                disposition[b"name"].decode(),
                filename.decode() if filename is not None else None,
                media,
                bytes(part["data"]),
            )
        )
    return found


def ours(parts: list[Part]) -> list[tuple[str, str | None, str, bytes]]:
    return [(p.name, p.filename, p.content_type, p.data) for p in parts]


@EXAMPLES
@given(st.lists(fields, max_size=5), st.lists(files, max_size=5))
def test_both_parsers_find_the_same_parts_in_what_clients_send(form, uploads):
    request = httpx.Request(
        "POST",
        "http://x/",
        data={name: value for name, value in form} or None,
        files=[(name, (filename, data, media)) for name, filename, data, media in uploads] or None,
    )
    body, content_type = request.read(), request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return  # nothing to upload: httpx sends no multipart body at all
    parsed = ours(parse(body, content_type, **LIMITS))
    assert parsed == reference_parts(body, content_type)
    sent = [(name, data) for name, _, data, _ in uploads]
    assert [(name, data) for name, filename, _, data in parsed if filename is not None] == sent


def parses_or_refuses(body: bytes, content_type: str) -> None:
    try:
        parts = parse(body, content_type, **LIMITS)
    except MultipartError as exc:
        assert str(exc)  # a message for the client
        return
    assert all(isinstance(p, Part) and len(p.data) <= len(body) for p in parts)


@EXAMPLES
@given(st.binary(max_size=2048), st.sampled_from(["B", "----x", "a" * 70, '"q\\"b"']))
def test_any_bytes_parse_or_are_refused_with_a_reason(body, boundary):
    parses_or_refuses(body, f"multipart/form-data; boundary={boundary}")
    parses_or_refuses(
        b"--" + boundary.strip('"').encode() + b"\r\n" + body, f"multipart/form-data; boundary={boundary}"
    )


@EXAMPLES
@given(st.lists(files, min_size=1, max_size=3), st.data())
def test_damaged_bodies_parse_or_are_refused_with_a_reason(uploads, data):
    request = httpx.Request("POST", "http://x/", files=[(n, (f, d, m)) for n, f, d, m in uploads])
    body, content_type = request.read(), request.headers["content-type"]
    at = data.draw(st.integers(0, len(body) - 1))
    damage = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    if damage == "truncate":
        damaged = body[:at]
    elif damage == "flip":
        damaged = body[:at] + bytes([body[at] ^ data.draw(st.integers(1, 255))]) + body[at + 1 :]
    elif damage == "insert":
        damaged = body[:at] + data.draw(st.sampled_from([b"\r\n", b"--", b"\r\n\r\n", b":"])) + body[at:]
    else:
        damaged = body[:at] + body[at + data.draw(st.integers(1, 8)) :]
    parses_or_refuses(damaged, content_type)
