"""The webhook request: JSON body, headers and the Stripe-style HMAC signature. Pure functions.

``X-Vigie-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the timestamp is
signed with the body, so a receiver that checks it is recent rejects a replayed request, and one
that compares ``v1`` in constant time rejects a forged or altered one. ``verify`` is meant to be
copied by receivers (README: Webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "X-Vigie-Signature"
DEFAULT_TOLERANCE = 300
"""Seconds a signature stays acceptable: clocks of the two systems may differ a little."""


class SignatureError(ValueError):
    """The request is not signed by a holder of the secret, or too long ago."""


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The request body: the event as stored (it carries ``seq`` and ``type``), compact UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Vigie-Signature`` value of ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def headers(
    secret: str,
    body: bytes,
    *,
    timestamp: int,
    delivery: str,
    event_type: str,
    seq: int | None,
    user_agent: str = "Vigie-Webhooks",
) -> dict[str, str]:
    """Every header of a delivery. ``seq`` is None for a ``ping``, which is no stored event."""
    result = {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        SIGNATURE_HEADER: sign(secret, body, timestamp),
        "X-Vigie-Delivery": delivery,
        "X-Vigie-Event-Type": event_type,
    }
    if seq is not None:
        result["X-Vigie-Event-Seq"] = str(seq)
    return result


def verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check a received ``X-Vigie-Signature`` against the raw body; return its timestamp.

    Raises :class:`SignatureError` when the header is malformed, the timestamp is further than
    ``tolerance`` seconds from ``now`` (a replay), or no ``v1`` matches (forged or altered).
    Several ``v1`` entries are accepted, for a future rotation of secrets.
    """
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError) as err:
        raise SignatureError("no timestamp t=<unix seconds> in the signature header") from err
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"signature timestamp {timestamp} is outside the tolerance")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureError("no valid v1 signature: wrong secret or altered body")
    return timestamp
