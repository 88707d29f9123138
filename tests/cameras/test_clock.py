"""GetSystemDateAndTime without zeep (cameras.clock): the same readings and errors as through zeep.

Real HTTP both ways: the simulator for genuine replies (compared with zeep's reading of the same
camera), and a small aiohttp server sending crafted replies (faults, error statuses, broken or
hostile XML) for what the simulator does not send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from lxml import etree

from cameras import clock
from cameras.client import OnvifClient, binding_name, shared_document
from cameras.errors import CameraAuthFailed, CameraProtocolError, CameraUnreachable
from cameras.models import CameraAddress
from tests.helpers.camera_servers import RunningSimulator, run, serving
from tests.helpers.soap import ENV12, answer, envelope, fault


async def _both(simulator: RunningSimulator, index: int) -> tuple[Any, Any]:
    """The reading of camera ``index`` through cameras.clock, then through zeep's proxy."""
    async with OnvifClient() as onvif:
        camera = onvif.camera(simulator.address(index))
        fast = await camera.get_system_date_and_time()
        zeep_client = await onvif.zeep_client("devicemgmt", None)
        proxy = zeep_client.create_service(
            binding_name("devicemgmt"), f"http://{camera.address.where}/onvif/device_service"
        )
        return fast, await proxy.GetSystemDateAndTime()


@pytest.mark.parametrize("index", [0, 1, 5, 20])  # healthy, clock 1 h ahead, auth failure, healthy
def test_the_reading_is_zeeps_reading_of_the_same_camera(
    simulator: RunningSimulator, index: int
) -> None:
    fast, reply = run(_both(simulator, index))
    utc = reply.UTCDateTime
    zeep_utc = datetime(
        utc.Date.Year,
        utc.Date.Month,
        utc.Date.Day,
        utc.Time.Hour,
        utc.Time.Minute,
        utc.Time.Second,
        tzinfo=UTC,
    )
    assert abs((fast.camera_utc - zeep_utc).total_seconds()) <= 1
    assert fast.date_time_type == reply.DateTimeType
    assert fast.time_zone == reply.TimeZone.TZ
    expected = 3600 if index == 1 else 0
    assert abs(fast.offset_s - expected) < 2
    assert 0 <= fast.round_trip_s < 3


def test_the_request_is_the_envelope_zeep_builds() -> None:
    async def zeep_message() -> bytes:
        async with OnvifClient() as onvif:
            client = await onvif.zeep_client("devicemgmt", None)
            service = client.create_service(
                "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding", "http://127.0.0.1:1/"
            )
            return etree.tostring(client.create_message(service, "GetSystemDateAndTime"))

    theirs = etree.fromstring(run(zeep_message()))
    ours = etree.fromstring(clock.REQUEST)
    # Same elements in the same order with the same text; zeep adds two unused xmlns only.
    assert [(e.tag, e.text) for e in ours.iter()] == [(e.tag, e.text) for e in theirs.iter()]
    assert ours.tag == f"{{{ENV12}}}Envelope"


# --- crafted replies over real HTTP --------------------------------------------------------------


@asynccontextmanager
async def crafted(status: int, body: bytes, seen: list | None = None) -> AsyncIterator[int]:
    """A one-route HTTP server on a free port answering every POST with ``status`` and ``body``."""

    async def handle(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append((request.path, dict(request.headers), await request.read()))
        return web.Response(status=status, body=body, content_type="application/soap+xml")

    async with serving("POST", handle) as port:
        yield port


def read_clock(status: int, body: bytes, seen: list | None = None) -> Any:
    async def go() -> Any:
        async with crafted(status, body, seen) as port, OnvifClient() as onvif:
            await shared_document("devicemgmt")
            camera = onvif.camera(CameraAddress("127.0.0.1", port, "u", "p", timeout_s=2.0))
            return await camera.get_system_date_and_time()

    return run(go())


def test_a_valid_reply_with_other_prefixes_is_read_and_sets_the_token_offset() -> None:
    seen: list = []
    reading = read_clock(200, envelope(answer()), seen)
    assert reading.camera_utc == datetime(2026, 3, 2, 8, 0, 5, tzinfo=UTC)
    assert reading.date_time_type == "NTP" and reading.time_zone == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert reading.offset_s < -1e6  # the camera's 2026-03-02 is long before the test's now
    [(path, headers, body)] = seen
    assert path == "/onvif/device_service" and body == clock.REQUEST
    assert headers["SOAPAction"] == f'"{clock.ACTION}"'
    assert headers["Content-Type"].startswith("application/soap+xml")


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (
            400,
            envelope(fault("Sender", "ter:NotAuthorized", "Sender not Authorized")),
            CameraAuthFailed,
            "SOAP fault Sender/NotAuthorized: Sender not Authorized",
        ),
        (
            200,
            envelope(fault("Receiver", "ter:ActionNotSupported", "no clock")),
            CameraProtocolError,
            "SOAP fault Receiver/ActionNotSupported: no clock",
        ),
        (500, envelope("<x/>"), CameraProtocolError, "SOAP fault: Unknown fault occured"),
        (401, b"", CameraAuthFailed, "HTTP 401"),
        (200, b"", CameraProtocolError, "HTTP 200 without a SOAP reply"),
        (200, b"  \n", CameraProtocolError, "HTTP 200 without a SOAP reply"),
        (200, b"<html><body>router login", CameraProtocolError, "not well-formed XML"),
        (
            200,
            envelope(answer(), ns="http://schemas.xmlsoap.org/soap/envelope/"),
            CameraProtocolError,
            "does not contain a valid",
        ),
        (200, envelope("<tds:Other/>"), CameraProtocolError, "no GetSystemDateAndTimeResponse"),
        (
            200,
            envelope(
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                "<tt:DateTimeType>NTP</tt:DateTimeType></tds:SystemDateAndTime>"
                "</tds:GetSystemDateAndTimeResponse>"
            ),
            CameraProtocolError,
            "the reply has no UTCDateTime",
        ),
        (
            200,
            envelope(answer("<tt:Year>twenty</tt:Year><tt:Month>3</tt:Month><tt:Day>2</tt:Day>")),
            CameraProtocolError,
            "Year is 'twenty', not a number",
        ),
        (
            200,
            envelope(answer("<tt:Year>2026</tt:Year><tt:Month>13</tt:Month><tt:Day>2</tt:Day>")),
            CameraProtocolError,
            "month must be in 1..12",
        ),
        (
            200,
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa">]>'
            + envelope(answer()).split(b"?>", 1)[1],
            CameraProtocolError,
            "DOCTYPE",
        ),
        (200, b"<a>" * 300 + b"</a>" * 300, CameraProtocolError, "Excessive depth"),
    ],
    ids=[
        "fault-not-authorized",
        "fault-200",
        "error-status-without-fault",
        "401-empty",
        "200-empty",
        "200-blank",
        "garbage",
        "soap-1.1",
        "other-answer",
        "no-utc",
        "bad-number",
        "bad-date",
        "doctype",
        "deep-nesting",
    ],
)
def test_bad_replies_are_the_errors_the_zeep_path_gave(
    status: int, body: bytes, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        read_clock(status, body)
    assert str(caught.value).startswith("127.0.0.1:")
    assert "GetSystemDateAndTime" in str(caught.value)
    assert fragment in str(caught.value)


def test_a_reply_over_the_cap_is_refused_unread() -> None:
    huge = envelope(answer() + "<x>" + "a" * 2_000_000 + "</x>")
    with pytest.raises(CameraProtocolError, match="refused"):
        read_clock(200, huge)


def test_a_camera_that_never_answers_times_out() -> None:
    async def go() -> None:
        async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(10)

        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with OnvifClient() as onvif:
                camera = onvif.camera(CameraAddress("127.0.0.1", port, "u", "p", timeout_s=0.5))
                await camera.get_system_date_and_time()
        finally:
            server.close()

    with pytest.raises(CameraUnreachable, match=r"no answer within 0\.5 s"):
        run(go())
