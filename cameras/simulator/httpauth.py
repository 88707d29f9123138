"""Server side of HTTP digest (RFC 7616, MD5, qop=auth) and basic authentication for snapshots.

Nonces are stateless: a timestamp and its HMAC under a per-process secret, so 5,000 cameras keep
no nonce table and a nonce expires by itself after :data:`NONCE_LIFETIME_S`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

REALM = "Vigie ONVIF simulator"
NONCE_LIFETIME_S = 300

_SECRET = secrets.token_bytes(32)
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 -- RFC 7616's MD5, what cameras use


def make_nonce(now: float | None = None) -> str:
    """A nonce that proves we issued it, and when."""
    stamp = str(int(time.time() if now is None else now))
    mac = hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.b64encode(f"{stamp}:{mac}".encode()).decode()


def nonce_is_fresh(nonce: str, now: float | None = None) -> bool:
    """True for a nonce of ours issued less than NONCE_LIFETIME_S ago."""
    try:
        stamp, mac = base64.b64decode(nonce, validate=True).decode().split(":", 1)
        issued = int(stamp)
    except ValueError:
        return False
    expected = hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:32]
    age = (time.time() if now is None else now) - issued
    return hmac.compare_digest(mac, expected) and 0 <= age <= NONCE_LIFETIME_S


def digest_challenge() -> str:
    """The WWW-Authenticate header value of a 401."""
    return (
        f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{make_nonce()}", '
        f'opaque="{secrets.token_hex(8)}"'
    )


def basic_challenge() -> str:
    """The WWW-Authenticate header value of a basic-only camera's 401."""
    return f'Basic realm="{REALM}"'


def check_digest(header: str, method: str, uri: str, username: str, password: str) -> bool:
    """True when an ``Authorization: Digest ...`` header for ``uri`` answers one of our nonces."""
    if not header.lower().startswith("digest "):
        return False
    params = {m[0].lower(): m[1] or m[2] for m in _PARAM.findall(header[7:])}
    required = ("username", "realm", "nonce", "uri", "response")
    if any(key not in params for key in required) or params["realm"] != REALM:
        return False
    if params["uri"] != uri:
        return False
    if not nonce_is_fresh(params["nonce"]):
        return False
    ha1 = _md5(f"{username}:{REALM}:{password}")
    ha2 = _md5(f"{method}:{params['uri']}")
    if params.get("qop") == "auth":
        expected = _md5(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
        )
    else:
        expected = _md5(f"{ha1}:{params['nonce']}:{ha2}")
    user_ok = hmac.compare_digest(params["username"].encode(), username.encode())
    return user_ok & hmac.compare_digest(params["response"].encode(), expected.encode())


def check_basic(header: str, username: str, password: str) -> bool:
    """True when an ``Authorization: Basic ...`` header carries these credentials."""
    if not header.lower().startswith("basic "):
        return False
    try:
        user, _, given = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except ValueError:
        return False
    return hmac.compare_digest(user.encode(), username.encode()) & hmac.compare_digest(
        given.encode(), password.encode()
    )
