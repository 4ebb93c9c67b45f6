"""Privacy: a cache hit tells nobody what another user sent; token subjects and key owners never share a
user; tokens have a maximum lifetime and may be verified against the issuer's JWKS; a user can erase
their images (audited), and withdrawing consent deletes the images kept so far."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from florai import contract
from florai.consent import ConsentService, LocalImageStore, SentImage, retain_all
from florai.consent.image_store import user_segment
from florai.services.erasure import ImageErasure
from florai.storage import Database, upgrade
from florai.storage.clock import utc_now
from florai_testkit.servers import LOOPBACK

API = contract.API_PREFIX
JWT_KEY = "privacy-test-jwt-secret-0123456789abcdef"
SWEEP_WAIT_S = 30


def bearer(sub: str, lifetime_s: int = 300, key: str = JWT_KEY, **headers: str) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode(
        {"sub": sub, "iat": now, "exp": now + lifetime_s}, key, algorithm="HS256", headers=headers
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def jwt_client(serve) -> Iterator:
    with serve(jwt_key=JWT_KEY, jwt_max_lifetime_s=3600, image_sweep_interval_s=3600) as client:
        yield client


def upload(client, headers, image: bytes):  # noqa: ANN001, ANN201
    return client.post(f"{API}/identify", files={"file": ("a.png", image, "image/png")}, headers=headers)


def test_a_cache_hit_never_tells_a_user_what_another_sent(jwt_client, dev_headers, make_png):
    photo = make_png((33, 133, 233))
    assert upload(jwt_client, dev_headers, photo).json()["cache"] == "miss"
    assert upload(jwt_client, bearer("bob"), photo).json()["cache"] == "miss"  # same photo, another user
    assert upload(jwt_client, dev_headers, photo).json()["cache"] == "hit"
    assert upload(jwt_client, bearer("bob"), photo).json()["cache"] == "hit"


def test_token_subjects_and_key_owners_never_share_a_user(jwt_client, dev_headers):
    assert (
        jwt_client.put(f"{API}/consent", json={"allow_training": True}, headers=dev_headers).status_code
        == 200
    )
    as_token = jwt_client.get(f"{API}/consent", headers=bearer("dev")).json()
    assert as_token["user_id"] == "jwt:dev" and as_token["allow_training"] is False
    assert jwt_client.get(f"{API}/consent", headers=dev_headers).json()["allow_training"] is True
    audit = jwt_client.get(f"{API}/consent/audit", headers=bearer("dev")).json()
    assert audit["user_id"] == "jwt:dev" and audit["entries"] == []


def test_tokens_live_at_most_the_maximum_lifetime(jwt_client):
    assert jwt_client.get(f"{API}/consent", headers=bearer("carol", lifetime_s=3000)).status_code == 200
    refused = jwt_client.get(f"{API}/consent", headers=bearer("carol", lifetime_s=7 * 24 * 3600))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"


class JwksServer:
    """The issuer's key set on a loopback HTTP server (as Cognito or Auth0 publish it)."""

    def __init__(self, jwks: dict) -> None:
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/.well-known/jwks.json"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_tokens_verified_against_the_issuers_jwks_url(serve):
    issuer_key, stranger_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)
    )
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer_key.public_key()))
    jwks = {"keys": [{**public, "kid": "issuer-1", "alg": "RS256", "use": "sig"}]}

    def signed(key, kid: str) -> dict[str, str]:  # noqa: ANN001
        now = int(time.time())
        token = jwt.encode(
            {"sub": "erin", "iat": now, "exp": now + 300}, key, algorithm="RS256", headers={"kid": kid}
        )
        return {"Authorization": f"Bearer {token}"}

    with JwksServer(jwks) as issuer, serve(jwt_jwks_url=issuer.url, jwt_algorithm="RS256") as client:
        good = client.get(f"{API}/consent", headers=signed(issuer_key, "issuer-1"))
        assert good.status_code == 200 and good.json()["user_id"] == "jwt:erin"
        assert client.get(f"{API}/consent", headers=signed(stranger_key, "issuer-1")).status_code == 401
        assert client.get(f"{API}/consent", headers=signed(issuer_key, "unknown-kid")).status_code == 401


def kept_files(client, user_id: str) -> list[Path]:  # noqa: ANN001
    images = Path(client.app.state.runtime.settings.effective_image_store_uri) / user_segment(user_id)
    return sorted(images.glob("*")) if images.exists() else []


def test_erasure_deletes_the_callers_images_and_records_and_is_audited(jwt_client, make_png):
    frank, grace = bearer("frank"), bearer("grace")
    for who in (frank, grace):
        assert jwt_client.put(f"{API}/consent", json={"store_images": True}, headers=who).status_code == 200
    for n in range(3):
        assert upload(jwt_client, frank, make_png((n, 10, 10))).status_code == 200
    assert upload(jwt_client, grace, make_png((9, 9, 9))).status_code == 200
    assert len(kept_files(jwt_client, "jwt:frank")) == 3
    erased = jwt_client.delete(f"{API}/consent/data", headers=frank)
    assert erased.status_code == 200
    assert erased.json() == {"user_id": "jwt:frank", "images_deleted": 3, "records_deleted": 3}
    assert kept_files(jwt_client, "jwt:frank") == []
    usage = jwt_client.get(f"{API}/consent/usage", headers=frank).json()
    assert (usage["kept"], usage["discarded"], usage["by_task"]) == (0, 0, {})
    entry = jwt_client.get(f"{API}/consent/audit", headers=frank).json()["entries"][0]
    assert (entry["field"], entry["new_value"], entry["actor"]) == ("data_erased", True, "jwt:frank")
    assert jwt_client.get(f"{API}/consent", headers=frank).json()["store_images"] is True  # consent stays
    assert len(kept_files(jwt_client, "jwt:grace")) == 1  # nobody else's
    assert jwt_client.get(f"{API}/consent/usage", headers=grace).json()["kept"] == 1


def test_withdrawing_consent_deletes_the_images_kept_so_far(jwt_client, make_png):
    heidi = bearer("heidi")
    assert jwt_client.put(f"{API}/consent", json={"store_images": True}, headers=heidi).status_code == 200
    for n in range(2):
        assert upload(jwt_client, heidi, make_png((n, 20, 200))).status_code == 200
    assert len(kept_files(jwt_client, "jwt:heidi")) == 2
    assert jwt_client.put(f"{API}/consent", json={"store_images": False}, headers=heidi).status_code == 200
    deadline = time.monotonic() + SWEEP_WAIT_S  # the withdrawal wakes the sweep (interval: an hour here)
    usage = jwt_client.get(f"{API}/consent/usage", headers=heidi).json()
    while usage["kept"] and time.monotonic() < deadline:
        time.sleep(0.05)
        usage = jwt_client.get(f"{API}/consent/usage", headers=heidi).json()
    assert kept_files(jwt_client, "jwt:heidi") == []  # objects go first, then their records
    assert (usage["kept"], usage["discarded"], usage["used_for_training"]) == (0, 2, 0)


def test_kept_images_expire_after_the_retention_period(tmp_path):
    url = f"sqlite:///{tmp_path / 'florai.db'}"
    upgrade(url)
    database = Database(url)
    try:
        consent = ConsentService(database)
        store = LocalImageStore(tmp_path / "images")
        consent.update("ivan", "ivan", {"store_images": True})
        retain_all(
            consent,
            store,
            [SentImage("ivan", "identify", f"{n:064x}", b"\x89PNG image", "png") for n in range(2)],
        )
        now = utc_now()
        erasure = ImageErasure(consent, store, retention_days=30, interval_s=60, clock=lambda: now)
        assert erasure.sweep_sync() == 0  # kept for less than 30 days: stays
        later = ImageErasure(
            consent, store, retention_days=30, interval_s=60, clock=lambda: now + timedelta(days=31)
        )
        assert later.sweep_sync() == 2
        assert list((tmp_path / "images" / "ivan").iterdir()) == []
        assert (consent.usage("ivan").kept, consent.usage("ivan").discarded) == (0, 2)
    finally:
        database.dispose()
