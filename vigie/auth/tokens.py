"""Access tokens (signed JWT, minutes) and opaque tokens (refresh, API) stored only hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from vigie.clock import utcnow

ALGORITHM = "HS256"
AUDIENCE = "vigie-api"
API_TOKEN_PREFIX = "vigie_"  # noqa: S105 (a prefix that lets scanners spot leaked tokens)


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    """``User.subject``: random and never reused, unlike the user's integer id."""
    token_version: int
    expires_at: datetime


def issue_access_token(
    key: str, *, subject: str, token_version: int, lifetime: timedelta
) -> tuple[str, int]:
    """A signed access token for the user whose ``User.subject`` is ``subject``, and its lifetime
    in seconds."""
    now = utcnow()
    claims = {
        "sub": subject,
        "ver": token_version,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM), int(lifetime.total_seconds())


def read_access_token(key: str, token: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token signed with ``key``; None otherwise."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # never trust the token's own "alg"
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud", "ver"]},
        )
        return AccessClaims(
            subject=str(claims["sub"]),
            token_version=int(claims["ver"]),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def new_opaque_token(prefix: str = "") -> str:
    """256 random bits: hashing them with SHA-256 is enough, no slow hash needed."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
