"""Bearer JWT verification (PyJWT): HS256 with a shared secret, or RS256/ES256 with a public key.

``exp`` and ``sub`` are required; ``iss`` and ``aud`` are checked when configured. Exactly one
algorithm is accepted per verifier, so a token cannot pick a weaker one (alg confusion).
"""

from __future__ import annotations

import jwt

from florai.security.principal import AuthError, Principal

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
MIN_HMAC_SECRET_BYTES = 32
DEFAULT_LEEWAY_S = 30.0

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
        key: str | bytes,
        algorithm: str = "HS256",
        audience: str | None = None,
        issuer: str | None = None,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
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
        self.key = key
        self.algorithm = algorithm
        self.audience = audience
        self.issuer = issuer
        self.leeway_s = leeway_s

    def verify(self, token: str | None) -> Principal:
        """The principal named by the token's ``sub``; AuthError with a clear reason otherwise."""
        if not token:
            raise AuthError("missing bearer token")
        required = ["exp", "sub"] + (["aud"] if self.audience else []) + (["iss"] if self.issuer else [])
        try:
            claims = jwt.decode(
                token,
                self.key,
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
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise AuthError("token subject must be a non-empty string")
        return Principal(user_id=subject, key_id=None)


def _message(error: jwt.InvalidTokenError) -> str:
    for kind, message in _MESSAGES:
        if isinstance(error, kind):
            return message
    return "token invalid"
