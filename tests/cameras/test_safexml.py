"""Hostile XML: refused before zeep parses it, with the process's memory bounded."""

from __future__ import annotations

import resource
import tracemalloc

import pytest
import zeep.exceptions
from aiohttp import web
from zeep.loader import parse_xml

from cameras.client import OnvifClient
from cameras.errors import CameraProtocolError
from cameras.models import CameraAddress
from cameras.safexml import HARDENED_SETTINGS, MAX_SOAP_BYTES, UnsafeXmlError, parse_strict
from cameras.simulator.scenario import HostileVariant
from cameras.simulator.soap import hostile, recorded
from tests.helpers.camera_servers import RunningSimulator, run, serving

HOSTILE_CAMERAS = {
    HostileVariant.billion_laughs: 8,
    HostileVariant.xxe: 9,
    HostileVariant.deep_nesting: 10,
    HostileVariant.huge_text: 11,
}


@pytest.mark.parametrize("variant", list(HostileVariant))
def test_the_strict_parser_refuses_every_attack(variant: HostileVariant) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_strict(hostile(variant))


def test_the_strict_parser_accepts_every_recorded_reply() -> None:
    for operation, by_token in recorded().items():
        for body in by_token.values():
            assert parse_strict(body.encode()).tag.endswith("Envelope"), operation


def test_zeep_settings_forbid_dtds_entities_and_huge_trees() -> None:
    assert HARDENED_SETTINGS.forbid_dtd
    assert HARDENED_SETTINGS.forbid_entities
    assert HARDENED_SETTINGS.forbid_external
    assert not HARDENED_SETTINGS.xml_huge_tree
    # the second line of defence holds on its own too
    with pytest.raises(zeep.exceptions.DTDForbidden):
        parse_xml(hostile(HostileVariant.billion_laughs), None, settings=HARDENED_SETTINGS)


async def warm_up(simulator: RunningSimulator) -> None:
    async with OnvifClient() as onvif:
        await onvif.camera(simulator.address(0)).get_device_information()


@pytest.mark.parametrize("variant", list(HostileVariant))
def test_a_hostile_camera_gets_protocol_error_with_bounded_memory(
    simulator: RunningSimulator, variant: HostileVariant
) -> None:
    """Python allocations stay under 4 MiB at their peak (the 12 MiB reply is abandoned at the
    1 MiB cap); the resident set does not grow by more than 64 MiB (a billion laughs expanded
    would need gigabytes)."""

    async def attack() -> list[Exception]:
        errors = []
        async with OnvifClient() as onvif:
            for _ in range(3):
                camera = onvif.camera(simulator.address(HOSTILE_CAMERAS[variant]))
                try:
                    await camera.get_device_information()
                except CameraProtocolError as error:
                    errors.append(error)
        return errors

    run(warm_up(simulator))  # parse the WSDLs before measuring: that is a once-per-process cost
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        errors = run(attack())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert len(errors) == 3
    print(f"{variant}: peak {peak:,} bytes, RSS growth {rss_growth_mib:.1f} MiB")
    assert peak < 3 * 1024 * 1024, f"peak {peak:,} bytes"
    assert rss_growth_mib < 64


def test_a_chunked_reply_without_length_is_abandoned_at_the_cap() -> None:
    """No Content-Length to refuse up front: the stream is cut once it passes the cap."""
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/soap+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"<Envelope><Body><Text>")
        try:
            for _ in range(12 * 16):  # 12 MiB in 64 KiB chunks
                await response.write(b"A" * 65536)
                sent.append(65536)
        except ConnectionError:
            pass
        return response

    async def scenario() -> tuple[CameraProtocolError, int]:
        async with serving("POST", endless) as port:
            tracemalloc.start()
            try:
                async with OnvifClient() as onvif:
                    camera = onvif.camera(CameraAddress("127.0.0.1", port, "u", "p"))
                    with pytest.raises(CameraProtocolError) as caught:
                        await camera.get_system_date_and_time()
                return caught.value, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    error, peak = run(scenario())
    assert f"longer than {MAX_SOAP_BYTES:,} bytes, abandoned" in str(error)
    assert peak < 3 * 1024 * 1024, f"peak {peak:,} bytes"
