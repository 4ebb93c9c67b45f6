"""Authentication (API keys, JWT), per-key rate limits, consent isolation, audit and retention."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from florai import contract
from florai.consent.image_store import user_segment
from florai.services.wiring import DEV_KEY_NOTICE

API = contract.API_PREFIX
JWT_KEY = "a-test-jwt-secret-of-at-least-32-bytes!!"


def _token(sub: str, key: str = JWT_KEY, exp_in: float = 300) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time() + exp_in)}, key, algorithm="HS256")


def _identify(client, headers, make_png, colour=(1, 2, 3)):
    return client.post(
        f"{API}/identify", files={"file": ("a.png", make_png(colour), "image/png")}, headers=headers
    )


@pytest.fixture(scope="module")
def jwt_client(serve):
    with serve(jwt_key=JWT_KEY) as client:
        yield client


def test_missing_and_invalid_credentials_are_401(jwt_client, make_png):
    r = _identify(jwt_client, {}, make_png)
    assert r.status_code == 401 and "missing credentials" in r.json()["detail"]
    assert "Bearer" in r.headers["www-authenticate"]
    r = _identify(jwt_client, {contract.API_KEY_HEADER: "flk_not-a-real-key"}, make_png)
    assert r.status_code == 401 and r.json()["detail"] == "invalid API key or token"
    for token in (_token("alice", key="x" * 40), _token("alice", exp_in=-3600), "not.a.jwt"):
        r = jwt_client.get(f"{API}/consent", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    assert jwt_client.get(contract.HEALTH_PATH).status_code == 200  # probes need no credentials
    assert jwt_client.get(contract.METRICS_PATH).status_code == 200


def test_jwt_principal_and_consent_isolation_with_complete_audit(jwt_client):
    alice = {"Authorization": f"Bearer {_token('alice')}"}
    bob = {"Authorization": f"Bearer {_token('bob')}"}
    assert jwt_client.put(f"{API}/consent", json={"store_images": True}, headers=alice).status_code == 200
    assert jwt_client.put(f"{API}/consent", json={"allow_training": True}, headers=alice).status_code == 200
    assert jwt_client.put(f"{API}/consent", json={"store_images": False}, headers=alice).status_code == 200
    assert jwt_client.get(f"{API}/consent", headers=bob).json() == {
        "user_id": "jwt:bob",
        "store_images": False,
        "allow_training": False,
        "version": 0,
        "updated_at": None,
    }
    assert jwt_client.get(f"{API}/consent/audit", headers=bob).json()["entries"] == []
    entries = jwt_client.get(f"{API}/consent/audit", headers=alice).json()["entries"]
    assert [(e["field"], e["old_value"], e["new_value"]) for e in entries] == [
        ("store_images", True, False),
        ("allow_training", False, True),
        ("store_images", False, True),
    ]
    assert all(e["actor"] == "jwt:alice" and e["changed_at"] for e in entries)
    # No route takes a user id: a query parameter naming another user changes nothing.
    assert jwt_client.get(f"{API}/consent?user_id=alice", headers=bob).json()["user_id"] == "jwt:bob"
    r = jwt_client.put(f"{API}/consent", json={"store_images": "maybe"}, headers=bob)
    assert r.status_code == 422
    r = jwt_client.put(f"{API}/consent", json={"store_images": True, "expected_version": 7}, headers=bob)
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_images_are_kept_only_with_consent(jwt_client, make_png):
    carol = {"Authorization": f"Bearer {_token('carol')}"}
    dave = {"Authorization": f"Bearer {_token('dave')}"}
    jwt_client.put(f"{API}/consent", json={"store_images": True}, headers=carol)
    for i in range(2):
        assert _identify(jwt_client, carol, make_png, (i, 50, 50)).status_code == 200
        assert _identify(jwt_client, dave, make_png, (i, 60, 60)).status_code == 200
    carol_usage = jwt_client.get(f"{API}/consent/usage", headers=carol).json()
    dave_usage = jwt_client.get(f"{API}/consent/usage", headers=dave).json()
    assert (carol_usage["kept"], carol_usage["discarded"]) == (2, 0)
    assert (dave_usage["kept"], dave_usage["discarded"]) == (0, 2)
    images = Path(jwt_client.app.state.runtime.settings.effective_image_store_uri)
    assert len(list((images / user_segment("jwt:carol")).glob("*.png"))) == 2
    assert not (images / user_segment("jwt:dave")).exists()


def test_rate_limit_per_key_429_with_retry_after(serve, dev_headers, make_png):
    with serve(rate_limit_per_s=0.01, rate_limit_burst=2, services=("consent",)) as client:
        statuses = [client.get(f"{API}/consent", headers=dev_headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        r = client.get(f"{API}/consent", headers=dev_headers)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "rate limit exceeded" in r.json()["detail"]
        assert (
            'florai_rejected_requests_total{reason="rate_limited"}' in client.get(contract.METRICS_PATH).text
        )


def test_generated_dev_key_is_announced_and_accepted(serve):
    # python -m florai prints the notice once the port accepts (florai.server; tested there).
    with serve(api_key=None, services=("consent",)) as client:
        line = client.app.state.runtime.dev_key_notice
        key = line.removeprefix("FLORAI_API_KEY=").removesuffix(" (development key)")
        assert line == DEV_KEY_NOTICE.format(key=key) and len(key) > 20
        assert client.get(f"{API}/consent", headers={contract.API_KEY_HEADER: key}).json()["user_id"] == "dev"
