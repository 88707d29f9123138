"""The simulator's WS-Security check and replies, on the digests a real client computes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from lxml import etree
from onvif.client import UsernameDigestTokenDtDiff
from zeep.wsse.username import UsernameToken

from cameras.simulator import httpauth, soap


def _signed(
    password: str, *, created: datetime | None = None, digest: bool = True
) -> etree._Element:
    """A GetDeviceInformation envelope signed by zeep's own UsernameToken."""
    envelope = etree.fromstring(
        f'<s:Envelope xmlns:s="{soap.SOAP_ENV}"><s:Header/><s:Body>'
        '<tds:GetDeviceInformation xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>'
        "</s:Body></s:Envelope>"
    )
    token: UsernameToken = UsernameDigestTokenDtDiff(
        "admin", password, dt_diff=None, use_digest=digest, created=created
    )
    envelope, _ = token.apply(envelope, {})
    return etree.fromstring(etree.tostring(envelope))


NOW = datetime.now(UTC).replace(microsecond=0)


def test_a_right_digest_passes() -> None:
    assert soap.check_username_token(_signed("pw", created=NOW), "admin", "pw", NOW) is None


def test_a_wrong_password_user_or_type_is_refused() -> None:
    assert soap.check_username_token(_signed("bad", created=NOW), "admin", "pw", NOW)
    assert soap.check_username_token(_signed("pw", created=NOW), "root", "pw", NOW)
    assert "digest" in soap.check_username_token(
        _signed("pw", created=NOW, digest=False), "admin", "pw", NOW
    )


def test_a_token_far_from_the_camera_clock_is_refused() -> None:
    stale = NOW - timedelta(seconds=soap.CLOCK_TOLERANCE_S + 5)
    reason = soap.check_username_token(_signed("pw", created=stale), "admin", "pw", NOW)
    assert reason == "Created too far from the camera's clock"


def test_no_token_is_refused() -> None:
    envelope = soap.parse_request(
        f'<s:Envelope xmlns:s="{soap.SOAP_ENV}"><s:Body><x/></s:Body></s:Envelope>'.encode()
    )
    assert soap.check_username_token(envelope, "admin", "pw", NOW) == "no UsernameToken"


def test_not_authorized_is_onvif_s_fault() -> None:
    reply = soap.not_authorized()
    root = soap.parse_request(reply.body)
    values = [v.text for v in root.iter(f"{{{soap.SOAP_ENV}}}Value")]
    assert reply.status == 400 and values == ["SOAP-ENV:Sender", "ter:NotAuthorized"]


def test_requests_with_a_doctype_are_refused() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    reply_error = None
    try:
        soap.parse_request(body)
    except ValueError as error:
        reply_error = str(error)
    assert reply_error is not None and "DOCTYPE" in reply_error


def test_unknown_profile_token_is_a_fault() -> None:
    device = soap.Device("127.0.0.1", 20000, "SIM1")
    reply = soap.answer("GetStreamUri", "99", device, NOW)
    assert reply.status == 400 and b"ter:InvalidArgVal" in reply.body


def test_http_digest_nonces_cannot_be_forged_or_reused_forever() -> None:
    nonce = httpauth.make_nonce()
    assert httpauth.nonce_is_fresh(nonce)
    stamp, mac = base64.b64decode(nonce).decode().split(":")
    forged = base64.b64encode(f"{int(stamp) + 1000}:{mac}".encode()).decode()
    assert not httpauth.nonce_is_fresh(forged)
    old = httpauth.make_nonce(now=1_000_000)
    assert not httpauth.nonce_is_fresh(old)
    assert not httpauth.nonce_is_fresh("not base64!")


def test_a_camera_reports_the_resolution_its_scenario_gives() -> None:
    """The recorded camera's main profile is 1920x1080; a camera given another size by the
    scenario reports it in its profiles (the sub-streams keep theirs)."""
    plain = soap.Device("127.0.0.1", 20000, "SIM1")
    sized = soap.Device("127.0.0.1", 20001, "SIM2", resolution=(2688, 1520))
    for operation in ("GetProfiles", "GetVideoEncoderConfiguration"):
        before = soap.answer(operation, "", plain, NOW).body.decode()
        after = soap.answer(operation, "", sized, NOW).body.decode()
        assert soap.RECORDED_MAIN_SIZE in before
        assert soap.RECORDED_MAIN_SIZE not in after
        assert "<tt:Width>2688</tt:Width><tt:Height>1520</tt:Height>" in after
        assert before.count("<tt:Width>") == after.count("<tt:Width>")
