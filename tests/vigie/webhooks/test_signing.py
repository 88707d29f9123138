"""The signature scheme receivers rely on: sign, then verify rejects forgery, tampering, replay."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from vigie.webhooks.signing import SignatureError, body_of, headers, sign, verify

SECRET = "whsec_test-secret-of-the-centre"
BODY = body_of({"seq": 7, "type": "state_changed", "camera_id": "cam-a1", "state": "down"})
T = 1_780_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_verify_accepts_a_fresh_signature_and_returns_its_time() -> None:
    assert verify(SECRET, sign(SECRET, BODY, T), BODY, now=T + 10) == T


@pytest.mark.parametrize(
    ("secret", "body", "now", "message"),
    [
        ("whsec_another", BODY, T, "no valid v1"),
        (SECRET, BODY.replace(b"down", b"up"), T, "no valid v1"),
        (SECRET, BODY, T + 301, "outside the tolerance"),
        (SECRET, BODY, T - 301, "outside the tolerance"),
    ],
    ids=["wrong secret", "altered body", "replayed later", "from the future"],
)
def test_verify_rejects(secret: str, body: bytes, now: int, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(secret, sign(SECRET, BODY, T), body, now=now)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc", f"t={T}"])
def test_verify_rejects_malformed_headers(header: str) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, header, BODY, now=T)


def test_verify_accepts_any_of_several_v1_for_secret_rotation() -> None:
    other = sign("whsec_old", BODY, T).split(",")[1]
    assert verify(SECRET, f"{sign(SECRET, BODY, T)},{other}", BODY, now=T) == T


def test_headers_carry_delivery_type_and_seq_except_for_ping() -> None:
    sent = headers(SECRET, BODY, timestamp=T, delivery="42", event_type="state_changed", seq=7)
    assert sent["X-Vigie-Event-Seq"] == "7"
    assert (sent["X-Vigie-Delivery"], sent["X-Vigie-Event-Type"]) == ("42", "state_changed")
    assert sent["Content-Type"] == "application/json"
    assert verify(SECRET, sent["X-Vigie-Signature"], BODY, now=T) == T
    ping = headers(SECRET, BODY, timestamp=T, delivery="ping-1", event_type="ping", seq=None)
    assert "X-Vigie-Event-Seq" not in ping


def test_body_is_compact_utf8_json_in_payload_order() -> None:
    assert body_of({"seq": 1, "type": "t", "nom": "Évreux"}) == (
        '{"seq":1,"type":"t","nom":"Évreux"}'.encode()
    )
