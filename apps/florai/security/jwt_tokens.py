"""Bearer JWT verification (PyJWT): HS256 with a shared secret, RS256/ES256 with a public key, or
the keys an issuer publishes at a JWKS URL (as Cognito and Auth0 do).

``exp`` and ``sub`` are required; ``iss`` and ``aud`` are checked when configured; a token may
live at most ``max_lifetime_s`` (from its ``iat``, else from now). Exactly one algorithm is
accepted per verifier, so a token cannot pick a weaker one (alg confusion). A token's subject
becomes the user id ``jwt:<sub>``: token subjects and API-key owners never share a user, so a
token for ``sub: dev`` cannot reach the data of the key owner ``dev``.
"""

from __future__ import annotations

import time

import jwt

from florai.security.principal import (
    JWT_USER_PREFIX,
    MAX_USER_ID_LENGTH,
    AuthError,
    Principal,
    user_id_problem,
)

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
MIN_HMAC_SECRET_BYTES = 32
DEFAULT_LEEWAY_S = 30.0
DEFAULT_MAX_LIFETIME_S = 24 * 3600
# Seconds the keys fetched from a JWKS URL are reused before the next fetch, and a fetch's timeout.
JWKS_CACHE_S = 300
JWKS_TIMEOUT_S = 5
MAX_SUBJECT_LENGTH = MAX_USER_ID_LENGTH - len(JWT_USER_PREFIX)

# PyJWT error -> the message a client sees (most specific first; all are InvalidTokenError).
_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not valid yet"),
    (jwt.InvalidAudienceError, "token audience not accepted"),
    (jwt.InvalidIssuerError, "token issuer not accepted"),
    (jwt.InvalidSignatureError, "token signature invalid"),
    (jwt.InvalidAlgorithmError, "token algorithm not allowed"),
    (jwt.DecodeError, "token malformed"),
)


class JwtVerifier:
    def __init__(
        self,
        key: str | bytes | None,
        algorithm: str = "HS256",
        audience: str | None = None,
        issuer: str | None = None,
        leeway_s: float = DEFAULT_LEEWAY_S,
        max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S,
        jwks_url: str | None = None,
    ) -> None:
        if jwks_url is not None:
            if algorithm not in ASYMMETRIC:
                raise ValueError(
                    f"a JWKS URL publishes public keys: use one of {ASYMMETRIC}, not {algorithm}"
                )
            self._jwks: jwt.PyJWKClient | None = jwt.PyJWKClient(
                jwks_url, cache_keys=True, lifespan=JWKS_CACHE_S, timeout=JWKS_TIMEOUT_S
            )
        else:
            self._jwks = None
            _check_key(key, algorithm)
        self.key = key
        self.algorithm = algorithm
        self.audience = audience
        self.issuer = issuer
        self.leeway_s = leeway_s
        self.max_lifetime_s = max_lifetime_s

    def _signing_key(self, token: str) -> object:
        if self._jwks is None:
            return self.key
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise AuthError("the token issuer's keys cannot be fetched right now") from None
        except (jwt.PyJWKClientError, jwt.DecodeError) as error:
            raise AuthError(f"token signing key not accepted ({error})") from None

    def verify(self, token: str | None) -> Principal:
        """The principal named by the token's ``sub``; AuthError with a clear reason otherwise."""
        if not token:
            raise AuthError("missing bearer token")
        required = ["exp", "sub"] + (["aud"] if self.audience else []) + (["iss"] if self.issuer else [])
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": required, "verify_aud": self.audience is not None},
            )
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"token missing required claim {error.claim!r}") from None
        except jwt.InvalidTokenError as error:
            raise AuthError(_message(error)) from None
        self._check_lifetime(claims)
        return Principal(user_id=JWT_USER_PREFIX + _subject(claims.get("sub")), key_id=None)

    def _check_lifetime(self, claims: dict) -> None:
        issued = claims.get("iat")
        start = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
        if claims["exp"] - start > self.max_lifetime_s + self.leeway_s:
            raise AuthError(f"token lifetime exceeds the maximum of {self.max_lifetime_s:.0f} s")


def _check_key(key: str | bytes | None, algorithm: str) -> None:
    if key is None:
        raise ValueError("a JWT key or a JWKS URL is required")
    if algorithm in SYMMETRIC:
        raw = key.encode() if isinstance(key, str) else key
        if len(raw) < MIN_HMAC_SECRET_BYTES:
            raise ValueError(f"{algorithm} needs a secret of at least {MIN_HMAC_SECRET_BYTES} bytes")
        if raw.lstrip().startswith(b"-----BEGIN"):
            raise ValueError(f"{algorithm} takes a shared secret, not a PEM key")
    elif algorithm in ASYMMETRIC:
        text = key.decode() if isinstance(key, bytes) else key
        if "PUBLIC KEY-----" not in text:
            raise ValueError(f"{algorithm} needs a PEM public key")
    else:
        raise ValueError(f"unsupported JWT algorithm {algorithm!r}; use one of {SYMMETRIC + ASYMMETRIC}")


def _subject(subject: object) -> str:
    problem = user_id_problem(subject, MAX_SUBJECT_LENGTH)
    if problem is not None:
        raise AuthError(f"token subject {problem}")
    return subject  # type: ignore[return-value]


def _message(error: jwt.InvalidTokenError) -> str:
    for kind, message in _MESSAGES:
        if isinstance(error, kind):
            return message
    return "token invalid"
