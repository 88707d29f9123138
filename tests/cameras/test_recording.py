"""Profile G replies (cameras.recording): real firmwares' captures, the hardened parser, and the
client against the simulator's cameras, with and without edge recording."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from lxml import etree

from cameras import recording, soap
from cameras.client import OnvifClient
from cameras.errors import CameraProtocolError
from cameras.models import CameraAddress
from cameras.safexml import UnsafeXmlError, parse_strict
from cameras.simulator.scenario import Fault
from supervision.probes import recording_observed
from tests.helpers.camera_servers import run, serving
from tests.helpers.personal_simulator import address, personal_simulator
from tests.helpers.soap import answer, envelope, fault

CAPTURES = Path(__file__).parents[2] / "cameras" / "simulator" / "captures"


def _answer(path: Path, operation: str) -> etree._Element:
    return soap.response(200, parse_strict(path.read_bytes()), operation)


def test_the_axis_recording_jobs_are_read() -> None:
    answer = _answer(
        CAPTURES / "axis-unknown-model" / "006_Recording_GetRecordingJobs.xml", "GetRecordingJobs"
    )
    assert recording.jobs(answer) == [
        recording.RecordingJob(
            token="SD_DISK_20241120_211729_9C896594",
            recording="SD_DISK_20241120_211729_9C896594",
            mode="Active",
        )
    ]


def test_a_reply_without_jobs_or_with_missing_elements_is_read() -> None:
    # The Axis GetRecordings reply has RecordingItems, no JobItem: no job, no error.
    answer = _answer(
        CAPTURES / "axis-unknown-model" / "005_Recording_GetRecordings.xml", "GetRecordings"
    )
    assert recording.jobs(answer) == []
    bare = parse_strict(
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        b'<r:GetRecordingJobsResponse xmlns:r="http://www.onvif.org/ver10/recording/wsdl">'
        b"<r:JobItem><r:JobToken>j1</r:JobToken><x:Vendor xmlns:x='urn:v'>1</x:Vendor>"
        b"</r:JobItem></r:GetRecordingJobsResponse></e:Body></e:Envelope>"
    )
    (job,) = recording.jobs(soap.response(200, bare, "GetRecordingJobs"))
    assert (job.token, job.recording, job.mode) == ("j1", "", "")


def test_a_summary_with_odd_or_missing_values_is_read() -> None:
    root = parse_strict(
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        b'<s:GetRecordingSummaryResponse xmlns:s="http://www.onvif.org/ver10/search/wsdl" '
        b'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Summary>'
        b"<tt:DataFrom>not a date</tt:DataFrom><tt:DataUntil>2026-12-07T08:00:00</tt:DataUntil>"
        b"</s:Summary></s:GetRecordingSummaryResponse></e:Body></e:Envelope>"
    )
    summary = recording.summary(soap.response(200, root, "GetRecordingSummary"))
    assert summary == recording.RecordingSummary(
        data_from=None, data_until=datetime(2026, 12, 7, 8, 0, tzinfo=UTC), recordings=None
    )


def test_a_recording_reply_with_a_dtd_or_an_entity_is_refused() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "2026-12-07T08:00:00Z">]>'
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        b'<s:GetRecordingSummaryResponse xmlns:s="http://www.onvif.org/ver10/search/wsdl">'
        b"<s:Summary><DataUntil>&x;</DataUntil></s:Summary>"
        b"</s:GetRecordingSummaryResponse></e:Body></e:Envelope>"
    )
    with pytest.raises(UnsafeXmlError):
        parse_strict(body)


SERVICES = envelope(
    "<tds:GetServicesResponse>"
    + "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace>"
        f"<tds:XAddr>http://10.0.0.9/onvif/{path}</tds:XAddr></tds:Service>"
        for ns, path in (
            (recording.RECORDING, "recording"),
            (recording.SEARCH, "search"),
            ("http://www.onvif.org/ver10/media/wsdl", "media"),
        )
    )
    + "</tds:GetServicesResponse>"
)
ENTITY_REPLY = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY big "AAAAAAAAAAAAAAAAAAAA">]>'
    b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
    b'<r:GetRecordingJobsResponse xmlns:r="http://www.onvif.org/ver10/recording/wsdl">'
    b"<r:JobItem><r:JobToken>&big;</r:JobToken></r:JobItem>"
    b"</r:GetRecordingJobsResponse></e:Body></e:Envelope>"
)


def test_a_camera_answering_its_recording_calls_with_an_entity_is_refused_not_down() -> None:
    """Through the real client: the reply is refused (protocol error), and the full check's
    recording step leaves the recording unobserved instead of calling the camera down."""

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if b"GetSystemDateAndTime" in raw:
            body = envelope(answer())
        elif b"GetServices" in raw:
            body = SERVICES
        else:
            body = ENTITY_REPLY
        return web.Response(body=body, content_type="application/soap+xml")

    async def go() -> None:
        async with serving("POST", handle) as port, OnvifClient() as onvif:
            where = CameraAddress("127.0.0.1", port, "u", "pw", timeout_s=2.0)
            with pytest.raises(CameraProtocolError, match="DOCTYPE"):
                await onvif.camera(where).get_recording_status()
            assert await recording_observed(onvif.camera(where), 0.0) == {}

    run(go())


def test_the_client_reads_the_simulated_edge_recording_and_its_faults() -> None:
    run(_edge_recording())


async def _edge_recording() -> None:
    async with (
        personal_simulator({0: "bosch", 1: "dlink", 2: "hikvision"}) as simulator,
        OnvifClient() as onvif,
    ):
        camera = onvif.camera(address(0, timeout_s=3.0))
        status = await camera.get_recording_status()
        assert status is not None and status.summary is not None
        assert status.summary.recordings == 1
        assert [(job.mode, job.state, job.errors) for job in status.jobs] == [
            ("Active", "Active", ())
        ]
        await simulator.set_faults(0, [Fault(kind="storage_failed")])
        (job,) = (await camera.get_recording_status()).jobs  # type: ignore[union-attr]
        assert (job.mode, job.state) == ("Active", "Error")
        assert job.errors == ("Storage failure: SD card not writable",)
        await simulator.set_faults(0, [Fault(kind="recording_stopped")])
        (job,) = (await camera.get_recording_status()).jobs  # type: ignore[union-attr]
        assert (job.mode, job.state) == ("Idle", "Idle")
        # No Profile G: the D-Link (ONVIF 1.x, no such service); the Hikvision lists Recording
        # and Search in GetServices but answers ActionNotSupported: not recording at the edge.
        for index in (1, 2):
            assert await onvif.camera(address(index, timeout_s=3.0)).get_recording_status() is None


def test_a_job_whose_state_is_refused_is_judged_on_its_mode() -> None:
    jobs = envelope(
        '<r:GetRecordingJobsResponse xmlns:r="http://www.onvif.org/ver10/recording/wsdl">'
        "<r:JobItem><r:JobToken>j1</r:JobToken><r:JobConfiguration>"
        "<tt:RecordingToken>rec1</tt:RecordingToken><tt:Mode>Active</tt:Mode>"
        "</r:JobConfiguration></r:JobItem></r:GetRecordingJobsResponse>"
    )

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if b"GetSystemDateAndTime" in raw:
            return web.Response(body=envelope(answer()), content_type="application/soap+xml")
        if b"GetServices" in raw:
            return web.Response(body=SERVICES, content_type="application/soap+xml")
        if b"GetRecordingJobs" in raw:
            return web.Response(body=jobs, content_type="application/soap+xml")
        # GetRecordingSummary and GetRecordingJobState: refused with a fault that is no
        # "unsupported" (the first), and one that is (the second)
        subcode = "ter:InvalidArgVal" if b"JobState" in raw else "ter:ActionNotSupported"
        return web.Response(
            status=400,
            body=envelope(fault("Sender", subcode, "no")),
            content_type="application/soap+xml",
        )

    async def go() -> None:
        async with serving("POST", handle) as port, OnvifClient() as onvif:
            camera = onvif.camera(CameraAddress("127.0.0.1", port, "u", "pw", timeout_s=2.0))
            status = await camera.get_recording_status()
            assert status == recording.RecordingStatus(
                None, (recording.RecordingJob(token="j1", recording="rec1", mode="Active"),)
            )

    run(go())
