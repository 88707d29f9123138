"""Where a full check's CPU goes: the ONVIF calls, the snapshot, its decoding and ``assess``.

A full check every 5 min for 5,000 cameras is 17 a second, so its CPU matters as much as the
liveness check's. This fetches snapshots and replies from ``vigie simulate`` (another process,
real HTTP), then times, in this process, each part alone (median of repeated runs, CPU time):

- each ONVIF call of the full check on a camera already probed once (keep-alive connections),
  and, as the baseline, the authenticated ones through zeep's proxies (what the client used
  before ``cameras.calls``) on the same cameras in the same run; the snapshot both ways:
  answering the camera's last digest challenge again (one request) and from a new challenge
  (the 401, then the answer);
- the snapshot's decoding in colour (``cv2.imdecode``) and as the probes decode it (below:
  ``decode_with_chroma``, the JPEG's grey at full size and its colour);
- ``supervision.imaging.assess`` with ``previous`` given as the previous *picture* (its
  features are computed again) and as the previous *report* (what the supervisor keeps), on the
  colour and on the grey decoding;
- how far the grey decoding moves ``assess``'s scores;
- the colour measure that tells a day picture from an infrared night one
  (``supervision.regime.snapshot_chroma``) and ``assess`` against the camera's day and night
  references, as the supervisor judges a snapshot since issue 22; the grey and the colour from
  one decoding (``supervision.probes.decode_with_chroma``: libturbojpeg's planes) against
  OpenCV's two (``supervision.jpeg.decode_twice``);
- the stream and snapshot URIs asked (once an hour) and kept (the other full checks);
- reading and writing the picture references: one (format 3, before issue 22) and a day and
  night pair, as a zip of ``.npy`` members (format 4) and as its arrays (format 5).

Usage: ``.venv/bin/python benchmarks/supervision/full_check_cost.py --port 40000 --host 127.0.0.3``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage import data

from cameras.client import OnvifClient, shared_document
from cameras.models import CameraAddress
from supervision import imaging, jpeg
from supervision.imaging import Reference, RegimeReferences, assess
from supervision.probes import decode_snapshot, decode_with_chroma
from supervision.regime import snapshot_chroma

HERE = Path(__file__).resolve().parent
VIGIE = str(Path(sys.executable).with_name("vigie"))


def cpu_ms(action: Callable[[], Any], repeat: int = 15) -> float:
    """Median CPU time of ``action``, in ms."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return round(statistics.median(times) * 1000, 2)


async def onvif_costs(host: str, port: int, cameras: int) -> tuple[dict[str, float], list[bytes]]:
    """CPU per call (ms, median over cameras) on cameras already probed once, and snapshots."""
    costs: dict[str, list[float]] = {}
    jpegs: list[bytes] = []
    snapshot_uris: list[str] = []
    async with OnvifClient() as onvif:
        for service in ("devicemgmt", "media"):
            await shared_document(service)
        handles = [
            onvif.camera(CameraAddress(host, port + i, "u", "p", timeout_s=5))
            for i in range(cameras)
        ]
        for round_ in range(2):  # the first round builds proxies and reads capabilities
            for camera in handles:
                steps: list[tuple[str, Callable[[], Any]]] = [
                    ("GetSystemDateAndTime", camera.get_system_date_and_time),
                    ("GetDeviceInformation", camera.get_device_information),
                    ("GetProfiles", camera.get_profiles),
                ]
                token = None
                for name, call in steps:
                    start = time.process_time()
                    reply = await call()
                    if round_:
                        costs.setdefault(name, []).append(time.process_time() - start)
                    if name == "GetProfiles":
                        token = reply[0].token
                uri = await uri_costs(camera, token, costs if round_ else {})
                if round_:  # the baseline: the same calls through zeep's proxies
                    await zeep_costs(camera, token, costs)
                # the second round's snapshot answers the first one's digest challenge again
                start = time.process_time()
                snapshot = await camera.get_snapshot(uri.uri)
                if round_:
                    costs.setdefault("snapshot (HTTP digest, challenge re-used)", []).append(
                        time.process_time() - start
                    )
                    jpegs.append(snapshot.content)
                    snapshot_uris.append(uri.uri)
        # Then each camera's snapshot from a new challenge (the 401, then the answer), apart so
        # that its garbage is not collected during the calls above.
        for camera, snapshot_uri in zip(handles, snapshot_uris, strict=True):
            onvif.digest_challenges.forget()
            start = time.process_time()
            await camera.get_snapshot(snapshot_uri)
            costs.setdefault("snapshot (HTTP digest, new challenge)", []).append(
                time.process_time() - start
            )
    return {k: round(statistics.median(v) * 1000, 2) for k, v in costs.items()}, jpegs


async def uri_costs(camera: Any, token: str | None, costs: dict[str, list[float]]) -> Any:
    """The URIs asked, as a full check does once an hour, then kept, as the other full checks
    of the hour get them; the snapshot URI."""
    camera.forget_uris()
    for name, method in (
        ("GetStreamUri", camera.get_stream_uri),
        ("GetSnapshotUri", camera.get_snapshot_uri),
    ):
        start = time.process_time()
        uri = await method(token)
        costs.setdefault(name, []).append(time.process_time() - start)
    start = time.process_time()
    await camera.get_stream_uri(token)
    await camera.get_snapshot_uri(token)
    costs.setdefault("GetStreamUri and GetSnapshotUri, kept", []).append(
        time.process_time() - start
    )
    return uri


async def zeep_costs(camera: Any, token: str | None, costs: dict[str, list[float]]) -> None:
    """CPU of the full check's authenticated calls through zeep, as the client made them
    before ``cameras.calls`` (same camera, same connection pool)."""
    device = await camera.zeep_proxy("devicemgmt")
    media = await camera.zeep_proxy("media")
    stream_setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
    for name, call in (
        ("GetDeviceInformation", device.GetDeviceInformation),
        ("GetProfiles", media.GetProfiles),
        ("GetStreamUri", lambda: media.GetStreamUri(StreamSetup=stream_setup, ProfileToken=token)),
        ("GetSnapshotUri", lambda: media.GetSnapshotUri(ProfileToken=token)),
    ):
        start = time.process_time()
        await call()
        costs.setdefault(f"zeep {name}", []).append(time.process_time() - start)


def full_hd_jpegs() -> list[bytes]:
    """Two 1920x1080 frames of one scene (a real photograph, upscaled) with fresh sensor noise,
    as JPEG quality 85: the simulator's snapshots are only 640x360."""
    scene = cv2.resize(data.coffee()[:, :, ::-1], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(7)
    frames = []
    for _ in range(2):
        noisy = np.clip(scene + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)
        frames.append(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return frames


def image_costs(jpegs: list[bytes]) -> dict[str, Any]:
    buffers = [np.frombuffer(j, np.uint8) for j in jpegs]
    colour = [cv2.imdecode(b, cv2.IMREAD_COLOR) for b in buffers]
    grey = [decode_snapshot(j) for j in jpegs]
    a, b = colour[0], colour[1]
    report_b, report_grey = assess(b), assess(grey[1])
    figures: dict[str, Any] = {
        "snapshot": f"{a.shape[1]}x{a.shape[0]}, {len(jpegs[0]) // 1024} KiB JPEG",
        "imdecode_colour_ms": cpu_ms(lambda: cv2.imdecode(buffers[0], cv2.IMREAD_COLOR)),
        "assess_previous_picture_ms": cpu_ms(lambda: assess(a, previous=b)),
        "assess_previous_report_ms": cpu_ms(lambda: assess(a, previous=report_b)),
        "assess_grey_previous_report_ms": cpu_ms(lambda: assess(grey[0], previous=report_grey)),
    }
    # As the supervisor does since the day and night references (issue 22): the colour read
    # from the JPEG beside its grey, the picture judged against its regime's reference.
    chroma = snapshot_chroma(jpegs[0])
    references = RegimeReferences(day=Reference.learn([grey[1]]))
    figures |= {
        "snapshot_chroma_ms": cpu_ms(lambda: snapshot_chroma(jpegs[0])),
        # the grey and the colour: OpenCV's two decodings (the baseline), libturbojpeg's one;
        # and OpenCV's grey alone, all a check decoded before issue 22
        "imdecode_grey_ms": cpu_ms(lambda: cv2.imdecode(buffers[0], cv2.IMREAD_GRAYSCALE)),
        "decode_twice_ms": cpu_ms(lambda: jpeg.decode_twice(jpegs[0])),
        "decode_with_chroma_ms": cpu_ms(lambda: decode_with_chroma(jpegs[0])),
        "decoder": jpeg.backend(),
        "assess_grey_one_reference_ms": cpu_ms(
            lambda: assess(grey[0], references.day, previous=report_grey)
        ),
        "assess_grey_regimes_reference_ms": cpu_ms(
            lambda: assess(grey[0], references, previous=report_grey, chroma=chroma)
        ),
    }
    # The references read at every full check and written at every check that learns: one
    # (format 3, before issue 22), a day and night pair as a zip (format 4) and as its arrays.
    night = Reference.learn([grey[0]])
    pair = RegimeReferences(day=references.day, night=night)

    def write_format_4() -> bytes:
        return imaging._npz(
            version=np.asarray(4), **pair.day._arrays("day_"), **pair.night._arrays("night_")
        )

    one, format_4, format_5 = references.day.to_bytes(), write_format_4(), pair.to_bytes()
    figures |= {
        "reference_bytes": {"one": len(one), "pair_format_4": len(format_4), "pair": len(format_5)},
        "reference_read_one_ms": cpu_ms(lambda: Reference.from_bytes(one), 200),
        "reference_read_pair_format_4_ms": cpu_ms(
            lambda: RegimeReferences.from_bytes(format_4), 200
        ),
        "reference_read_pair_ms": cpu_ms(lambda: RegimeReferences.from_bytes(format_5), 200),
        "reference_write_one_ms": cpu_ms(references.day.to_bytes, 100),
        "reference_write_pair_format_4_ms": cpu_ms(write_format_4, 100),
        "reference_write_pair_ms": cpu_ms(pair.to_bytes, 200),
    }
    # Does the grey decoding change what imaging measures? Scores of the same snapshots.
    moved = []
    for index in range(1, len(colour)):
        in_colour = assess(colour[index], previous=colour[index - 1]).scores
        in_grey = assess(grey[index], previous=grey[index - 1]).scores
        moved += [abs(in_colour[k] - in_grey[k]) for k in in_colour if k in in_grey]
    figures["grey_score_change_max"] = round(max(moved), 4) if moved else None
    figures["grey_score_change_median"] = round(statistics.median(moved), 4) if moved else None
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--port", type=int, default=40000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        token = Path(folder) / "token"
        scenario = Path(folder) / "scenario.yaml"
        scenario.write_text("username: u\npassword: p\nfaults: []\n")
        process = subprocess.Popen(
            [
                *(VIGIE, "simulate", "--cameras", str(args.cameras), "--port", str(args.port)),
                *("--host", args.host, "--scenario", str(scenario), "--token-file", str(token)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while not (token.exists() and token.read_text().strip()):
                if process.poll() is not None:
                    raise SystemExit(process.stderr.read().decode())
                time.sleep(0.1)
            calls, jpegs = asyncio.run(onvif_costs(args.host, args.port, args.cameras))
        finally:
            process.send_signal(2)
            process.wait(30)
    zeep = {name[5:]: calls.pop(name) for name in list(calls) if name.startswith("zeep ")}
    record = {
        "onvif_call_cpu_ms": calls,
        "zeep_baseline_cpu_ms": zeep,
        "zeep_over_direct": {name: round(zeep[name] / calls[name], 1) for name in zeep},
        "simulator_snapshots": image_costs(jpegs),
        "full_hd_frames": image_costs(full_hd_jpegs()),
    }
    print(json.dumps(record, indent=2))
    (HERE / "full_check_cost.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
