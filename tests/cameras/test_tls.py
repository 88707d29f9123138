"""Cameras over HTTPS with self-signed certificates: pinned on first use, a change refused
before anything is sent. Real TLS: the simulator serves HTTPS with its own certificates."""

from __future__ import annotations

import asyncio
import hashlib
import ssl

import pytest

from cameras.client import OnvifClient
from cameras.errors import CameraCertificateChanged, CameraUnreachable
from cameras.simulator.scenario import Fault
from tests.helpers.camera_servers import run
from tests.helpers.personal_simulator import address, personal_simulator


def _fingerprint(port: int) -> str:
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_the_certificate_is_pinned_on_first_use_and_a_change_sends_nothing() -> None:
    async def scenario():
        async with (
            personal_simulator({0: "hikvision", 1: "bosch"}, tls=[0, 1]) as simulator,
            OnvifClient() as onvif,
        ):
            camera = onvif.camera(address(0, tls=True))
            await camera.get_system_date_and_time()
            profiles = await camera.get_profiles()
            uri = await camera.get_snapshot_uri(profiles[0].token)
            snapshot = await camera.get_snapshot(uri.uri)
            presented = await asyncio.to_thread(_fingerprint, 11000)
            pinned = camera.pin
            await simulator.set_faults(0, [Fault(kind="rekeyed")])
            new = await asyncio.to_thread(_fingerprint, 11000)
            before = simulator.requests
            with pytest.raises(CameraCertificateChanged) as caught:
                await camera.get_device_information()
            sent = simulator.requests - before
            trusted = onvif.camera(address(0, tls=True, tls_pin=new))
            info = await trusted.get_device_information()
            bosch = onvif.camera(address(1, tls=True))
            bosch_info = await bosch.get_device_information()
            return uri, snapshot, presented, pinned, new, caught.value, sent, info, bosch_info

    uri, snapshot, presented, pinned, new, error, sent, info, bosch_info = run(scenario())
    assert (
        uri.uri.startswith("https://127.0.0.1:11000/") and snapshot.content[:3] == b"\xff\xd8\xff"
    )
    assert pinned == presented  # the one the camera presented, by a bare handshake
    assert new != presented
    assert (error.pinned, error.presented) == (presented, new)
    assert "nothing was sent" in str(error) and str(error).startswith("127.0.0.1:11000: ")
    assert sent == 0  # refused at the handshake: no request, so no credentials, went out
    assert info.model == "ENP1A14-IR/25X"  # the new certificate, once trusted
    assert bosch_info.manufacturer == "Bosch"


def test_a_tls_camera_answering_plain_http_is_an_error_not_a_pin() -> None:
    async def scenario():
        async with personal_simulator({0: "bosch"}), OnvifClient() as onvif:
            camera = onvif.camera(address(0, tls=True))
            await camera.get_system_date_and_time()

    with pytest.raises(CameraUnreachable):
        run(scenario())
