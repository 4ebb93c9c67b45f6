"""JWT verification: good tokens pass; expired, forged, misaddressed or malformed ones say why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from florai.security import AuthError, JwtVerifier, Principal

SECRET = "s" * 40
AUD = "florai-api"
ISS = "https://auth.example.test/"


class FromNow(int):
    """A time claim given as seconds from the moment the token is made (not from test collection,
    which can be many minutes earlier in a long run)."""


def _token(key=SECRET, algorithm="HS256", **claims) -> str:
    now = int(time.time())
    claims = {k: now + v if isinstance(v, FromNow) else v for k, v in claims.items()}
    payload = {"sub": "alice", "exp": now + 300, "iat": now, "aud": AUD, "iss": ISS} | claims
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm)


@pytest.fixture
def verifier() -> JwtVerifier:
    return JwtVerifier(SECRET, "HS256", audience=AUD, issuer=ISS, leeway_s=30)


def test_good_token(verifier):
    assert verifier.verify(_token()) == Principal(user_id="jwt:alice", key_id=None)


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"exp": FromNow(-120)}, "token expired"),
        ({"key": "x" * 40}, "token signature invalid"),
        ({"aud": "someone-else"}, "token audience not accepted"),
        ({"iss": "https://evil.example.test/"}, "token issuer not accepted"),
        ({"nbf": FromNow(600)}, "token not valid yet"),
        ({"exp": None}, "missing required claim 'exp'"),
        ({"sub": None}, "missing required claim 'sub'"),
        ({"aud": None}, "missing required claim 'aud'"),
        ({"sub": ""}, "subject must be a non-empty string"),
    ],
)
def test_bad_tokens_say_why(verifier, token_kwargs, message):
    with pytest.raises(AuthError, match=message):
        verifier.verify(_token(**token_kwargs))


def test_leeway_accepts_small_clock_skew(verifier):
    assert verifier.verify(_token(exp=int(time.time()) - 5)).user_id == "jwt:alice"


def test_malformed_missing_and_unsigned_tokens(verifier):
    with pytest.raises(AuthError, match="malformed"):
        verifier.verify("not.a.jwt")
    with pytest.raises(AuthError, match="missing bearer token"):
        verifier.verify(None)
    unsigned = jwt.encode(
        {"sub": "alice", "exp": int(time.time()) + 60, "aud": AUD, "iss": ISS}, None, "none"
    )
    with pytest.raises(AuthError, match="algorithm not allowed"):
        verifier.verify(unsigned)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_signed_with(secret: str, claims: dict) -> str:
    """A token an attacker builds by HMAC-signing with the (public) verification key."""
    signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def _pem_public(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("algorithm", "make_key"),
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_asymmetric_tokens(algorithm, make_key):
    private_key, other_key = make_key(), make_key()
    public_pem = _pem_public(private_key)
    verifier = JwtVerifier(public_pem, algorithm, audience=AUD, issuer=ISS)
    assert verifier.verify(_token(private_key, algorithm)).user_id == "jwt:alice"
    with pytest.raises(AuthError, match="signature invalid"):
        verifier.verify(_token(other_key, algorithm))
    # Algorithm confusion: an HS256 token "signed" with the public key text must not pass.
    forged = jwt.api_jws.PyJWS().encode(
        jwt.api_jwt.PyJWT()._encode_payload(
            {"sub": "mallory", "exp": int(time.time()) + 60, "aud": AUD, "iss": ISS}
        ),
        b"x" * 40,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="algorithm not allowed"):
        verifier.verify(forged)


def test_configuration_errors_are_clear():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JwtVerifier("short-secret")
    with pytest.raises(ValueError, match="not a PEM key"):
        JwtVerifier("-----BEGIN PUBLIC KEY-----" + "x" * 40)
    with pytest.raises(ValueError, match="PEM public key"):
        JwtVerifier(SECRET, "RS256")
    with pytest.raises(ValueError, match="unsupported JWT algorithm"):
        JwtVerifier(SECRET, "none")
