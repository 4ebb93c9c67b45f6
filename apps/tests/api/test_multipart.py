"""The multipart/form-data parser: real clients' bodies parse to the same parts; malformed bodies
are refused with a message (HTTP 400 from the API), never a crash."""

from __future__ import annotations

import httpx
import pytest

from florai import contract
from florai.api import multipart
from florai.api.multipart import MultipartError, parse

LIMITS = {"max_files": 4, "max_fields": 3, "max_field_bytes": 16}
API = contract.API_PREFIX


def encoded(files, data=None) -> tuple[bytes, str]:  # noqa: ANN001
    """A body as httpx (the clients' library) encodes it, and its Content-Type."""
    request = httpx.Request("POST", "http://x/", files=files, data=data)
    return request.read(), request.headers["content-type"]


def test_parts_as_a_client_sends_them():
    body, content_type = encoded(
        [("file", ("leaf.jpg", b"\xff\xd8\xff jpeg \r\n bytes", "image/jpeg")), ("file", ("b", b"", None))],
        {"organ": "leaf", "lat": "48.1"},
    )
    parts = parse(body, content_type, **LIMITS)
    by_name = [(p.name, p.filename, p.content_type, p.data) for p in parts]
    assert ("organ", None, "", b"leaf") in by_name and ("lat", None, "", b"48.1") in by_name
    assert ("file", "leaf.jpg", "image/jpeg", b"\xff\xd8\xff jpeg \r\n bytes") in by_name
    assert ("file", "b", "application/octet-stream", b"") in by_name
    assert [p.is_file for p in parts].count(True) == 2


def test_preamble_epilogue_quoted_boundary_and_transport_padding():
    body = (
        b'ignored preamble\r\n--b0und"ary  \r\n'
        b'Content-Disposition: form-data; name="file"; filename="x.png"\r\n'
        b"Content-Type: IMAGE/PNG; charset=binary\r\n\r\n"
        b'\x89PNG data\r\n--b0und"ary--\r\nepilogue --b0und"ary'
    )
    (part,) = parse(body, 'multipart/form-data; boundary="b0und\\"ary"', **LIMITS)
    assert (part.name, part.filename, part.content_type, part.data) == (
        "file",
        "x.png",
        "image/png",
        b"\x89PNG data",
    )


GOOD_PART = b'Content-Disposition: form-data; name="organ"\r\n\r\nleaf\r\n'


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"--B\r\n" + GOOD_PART + b"--B--", "multipart/form-data", "without a boundary"),
        (b"--B\r\n" + GOOD_PART + b"--B--", "multipart/form-data; boundary=" + "x" * 71, "longer than 70"),
        (b"no delimiter here", "multipart/form-data; boundary=B", "without its boundary"),
        (b"--B\r\n" + GOOD_PART, "multipart/form-data; boundary=B", "truncated"),
        (b"--B\r\n" + GOOD_PART[:-2], "multipart/form-data; boundary=B", "truncated"),
        (b"--Bxx\r\n" + GOOD_PART + b"--B--", "multipart/form-data; boundary=B", "line break"),
        (b"--B\r\n\r\nleaf\r\n--B--", "multipart/form-data; boundary=B", "Content-Disposition"),
        (
            b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
            "multipart/form-data; boundary=B",
            "Content-Disposition",
        ),
        (b"--B\r\nno colon line\r\n\r\nx\r\n--B--", "multipart/form-data; boundary=B", "malformed header"),
        (
            b"--B\r\nContent-Disposition: attachment\r\n\r\nx\r\n--B--",
            "multipart/form-data; boundary=B",
            "form-data with a name",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="organ"\r\n\r\n' + b"x" * 17 + b"\r\n--B--",
            "multipart/form-data; boundary=B",
            "over 16 bytes",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="organ"\r\n\r\n\xff\xfe\r\n--B--',
            "multipart/form-data; boundary=B",
            None,
        ),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body, content_type, message):
    if message is None:  # parses; reading the field as text is what fails
        (part,) = parse(body, content_type, **LIMITS)
        with pytest.raises(MultipartError, match="not UTF-8"):
            part.text()
        return
    with pytest.raises(MultipartError, match=message):
        parse(body, content_type, **LIMITS)


def test_headers_longer_than_the_limit(monkeypatch):
    monkeypatch.setattr(multipart, "MAX_PART_HEADER_BYTES", 64)
    body = (
        b'--B\r\nContent-Disposition: form-data; name="organ"\r\nX-Long: '
        + b"y" * 80
        + b"\r\n\r\nleaf\r\n--B--"
    )
    with pytest.raises(MultipartError, match="too long"):
        parse(body, "multipart/form-data; boundary=B", **LIMITS)


def test_limits_on_files_and_fields():
    files = [("file", (f"{i}.png", b"x", "image/png")) for i in range(5)]
    body, content_type = encoded(files)
    with pytest.raises(MultipartError, match="too many files"):
        parse(body, content_type, **LIMITS)
    body, content_type = encoded([("file", ("a.png", b"x", "image/png"))], {"organ": ["a", "b", "c", "d"]})
    with pytest.raises(MultipartError, match="too many fields"):
        parse(body, content_type, **LIMITS)


def test_the_api_answers_400_for_a_malformed_body_and_serves_the_next(client, dev_headers, make_png):
    headers = {**dev_headers, "content-type": "multipart/form-data; boundary=B"}
    r = client.post(f"{API}/identify", content=b"--B\r\n" + GOOD_PART, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "invalid_multipart"
    assert "truncated" in r.json()["detail"]
    r = client.post(f"{API}/batch?task=identify", content=b"garbage", headers=headers)
    assert r.status_code == 400 and "without its boundary" in r.json()["detail"]
    r = client.post(
        f"{API}/identify",
        files={"file": ("ok.png", make_png((1, 2, 3)), "image/png")},
        data={"organ": "leaf"},
        headers=dev_headers,
    )
    assert r.status_code == 200 and r.json()["organ"] == "leaf"
