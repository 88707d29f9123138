"""The ONVIF simulator's throughput, and the client's cost per probe and per camera.

In one run:

1. ``vigie simulate`` starts in a subprocess with ``--cameras N`` (5,000 by default): start-up
   time and resident memory of the simulator.
2. Throughput: a lightweight aiohttp load generator (pre-signed envelopes, no zeep, so the
   generator is not the bottleneck) sends GetSystemDateAndTime, GetDeviceInformation (with
   WS-UsernameToken digest verified by the simulator) and snapshots (HTTP digest, JPEG rendered
   per request) round-robin over all N ports; requests per second and the simulator's CPU
   milliseconds per request (from /proc).
3. Client against baseline, on the same K cameras: a probe is GetSystemDateAndTime +
   GetDeviceInformation + GetProfiles. ``vigie``: one :class:`cameras.client.OnvifClient` for
   the process, one :class:`Camera` per camera. Baseline: one ``onvif.ONVIFCamera`` built per
   poll (``adjust_time=True``; ``update_xaddrs()`` then the two calls, then ``close()``), the
   obvious use of onvif-zeep-async. CPU ms per probe (process time, no tracing), then memory
   per camera with K objects alive at once (tracemalloc, after a warm-up that parsed the WSDLs).

Usage: ``.venv/bin/python benchmarks/cameras/onvif_bench.py [--cameras 5000] [--probes 300]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import os
import platform
import secrets
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from onvif import ONVIFCamera
from rich.console import Console
from rich.table import Table

from cameras.client import Camera, OnvifClient
from cameras.models import CameraAddress

HERE = Path(__file__).resolve().parent
VIGIE = str(Path(sys.executable).with_name("vigie"))
USER, PASSWORD = "admin", "vigie-sim"
console = Console()

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    "<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
)
TDS = 'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'


def signed_header() -> str:
    """A WS-UsernameToken digest valid for the simulator's clock tolerance (2 minutes)."""
    nonce = secrets.token_bytes(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(
        hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest()
    ).decode()
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    profile = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    return (
        f'<Security xmlns="{wsse}"><UsernameToken><Username>{USER}</Username>'
        f'<Password Type="{profile}#PasswordDigest">{digest}</Password>'
        f"<Nonce>{base64.b64encode(nonce).decode()}</Nonce>"
        f'<Created xmlns="{wsu}">{created}</Created></UsernameToken></Security>'
    )


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_simulator(cameras: int, port: int) -> tuple[subprocess.Popen, float]:
    token = HERE / ".bench-token"
    token.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            VIGIE,
            "simulate",
            "--cameras",
            str(cameras),
            "--port",
            str(port),
            "--token-file",
            str(token),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not token.exists():
        if process.poll() is not None:
            raise SystemExit("the simulator did not start")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    token.unlink()
    return process, elapsed


async def load(
    kind: str, cameras: int, port: int, seconds: float, concurrency: int
) -> tuple[int, int, float]:
    """Requests for ``seconds`` by ``concurrency`` workers, all cameras: (ok, failed, s)."""
    ok = failed = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def snapshot(url: str) -> bool:
            # aiohttp's digest middleware would add a round trip per request; do it by hand.
            async with session.get(url) as first:
                challenge = first.headers.get("WWW-Authenticate", "")
            params = dict(p.strip().split("=", 1) for p in challenge[7:].split(",") if "=" in p)
            nonce = params["nonce"].strip('"')
            uri = "/" + url.split("/", 3)[3]
            md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
            ha1 = md5(f"{USER}:Vigie ONVIF simulator:{PASSWORD}")
            response = md5(f"{ha1}:{nonce}:00000001:abc:auth:{md5('GET:' + uri)}")
            header = (
                f'Digest username="{USER}", realm="Vigie ONVIF simulator", nonce="{nonce}", '
                f'uri="{uri}", response="{response}", qop=auth, nc=00000001, cnonce="abc"'
            )
            async with session.get(url, headers={"Authorization": header}) as reply:
                body = await reply.read()
                return reply.status == 200 and body[:2] == b"\xff\xd8"

        async def worker(offset: int) -> None:
            nonlocal ok, failed
            index = offset
            header = signed_header()
            while time.perf_counter() < stop:
                camera_port = port + index % cameras
                index += concurrency
                try:
                    if kind == "snapshot":
                        good = await snapshot(f"http://127.0.0.1:{camera_port}/snap.jpg?JpegCam=1")
                    else:
                        body = (
                            f"<tds:GetSystemDateAndTime {TDS}/>"
                            if kind == "clock"
                            else f"<tds:GetDeviceInformation {TDS}/>"
                        )
                        envelope = ENVELOPE.format(
                            header=header if kind == "info" else "", body=body
                        )
                        async with session.post(
                            f"http://127.0.0.1:{camera_port}/onvif/device_service",
                            data=envelope,
                            headers={"Content-Type": "application/soap+xml"},
                        ) as reply:
                            text = await reply.read()
                            good = reply.status == 200 and b"Response>" in text
                except aiohttp.ClientError:
                    good = False
                ok += good
                failed += not good

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return ok, failed, time.perf_counter() - started


async def probe(camera: Camera) -> None:
    """What supervision asks a camera: reachable and its clock, who it is, what it streams."""
    await camera.get_system_date_and_time()
    await camera.get_device_information()
    await camera.get_profiles()


async def probe_baseline(address: CameraAddress, keep: list | None) -> None:
    """The obvious onvif-zeep-async use: build an ONVIFCamera for the poll, then close it."""
    camera = ONVIFCamera(address.host, address.port, USER, PASSWORD, adjust_time=True)
    await camera.update_xaddrs()
    await (await camera.create_devicemgmt_service()).GetDeviceInformation()
    media = await camera.create_media_service()
    await media.GetProfiles()
    if keep is None:
        await camera.close()
    else:
        keep.append(camera)


async def measure_vigie(addresses: list[CameraAddress], concurrency: int) -> dict:
    """First probe of each camera (learns its clock and media address), then a repeat probe."""
    semaphore = asyncio.Semaphore(concurrency)

    async def bounded(camera: Camera) -> None:
        async with semaphore:
            await probe(camera)

    async with OnvifClient() as onvif:
        await probe(onvif.camera(addresses[0]))  # warm-up: the WSDLs are parsed here, once
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        cameras = [onvif.camera(address) for address in addresses]
        await asyncio.gather(*(bounded(c) for c in cameras))
        gc.collect()
        per_camera = (tracemalloc.get_traced_memory()[0] - before) / len(addresses)
        tracemalloc.stop()
        cameras = [onvif.camera(address) for address in addresses]
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(bounded(c) for c in cameras))
        first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(bounded(c) for c in cameras))
        again_cpu, again_wall = time.process_time() - cpu, time.perf_counter() - wall
    n = len(addresses)
    return {
        "cpu_ms_per_probe": round(1000 * first_cpu / n, 2),
        "probes_per_s": round(n / first_wall, 1),
        "cpu_ms_per_repeat_probe": round(1000 * again_cpu / n, 2),
        "repeat_probes_per_s": round(n / again_wall, 1),
        "memory_per_camera_kib": round(per_camera / 1024, 1),
    }


async def measure_baseline(addresses: list[CameraAddress], concurrency: int) -> dict:
    """The same probes, one ONVIFCamera built per poll; memory with all of a round alive."""
    semaphore = asyncio.Semaphore(concurrency)

    async def bounded(address: CameraAddress, keep: list | None) -> None:
        async with semaphore:
            await probe_baseline(address, keep)

    await bounded(addresses[0], None)  # warm-up: the WSDLs are parsed here, once
    gc.collect()
    kept: list = []
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await asyncio.gather(*(bounded(a, kept) for a in addresses))
    gc.collect()
    per_camera = (tracemalloc.get_traced_memory()[0] - before) / len(addresses)
    tracemalloc.stop()
    await asyncio.gather(*(c.close() for c in kept))
    kept.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(bounded(a, None) for a in addresses))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = len(addresses)
    return {
        "cpu_ms_per_probe": round(1000 * cpu / n, 2),
        "probes_per_s": round(n / wall, 1),
        "memory_per_camera_kib": round(per_camera / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=5000, help="virtual cameras (5000)")
    parser.add_argument("--port", type=int, default=26000, help="port of camera 0 (26000)")
    parser.add_argument("--probes", type=int, default=300, help="cameras probed by each client")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load test")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, "
        f"Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "cameras": args.cameras,
    }
    simulator, startup_s = start_simulator(args.cameras, args.port)
    try:
        results["simulator_startup_s"] = round(startup_s, 2)
        results["simulator_rss_mib"] = round(process_rss_mib(simulator.pid), 1)
        for kind in ("clock", "info", "snapshot"):
            cpu_before = process_cpu_s(simulator.pid)
            ok, failed, elapsed = asyncio.run(
                load(kind, args.cameras, args.port, args.seconds, args.concurrency)
            )
            cpu = process_cpu_s(simulator.pid) - cpu_before
            results[f"load_{kind}"] = {
                "requests_per_s": round(ok / elapsed, 1),
                "failed": failed,
                "simulator_cpu_ms_per_request": round(1000 * cpu / max(ok, 1), 3),
            }
        results["simulator_rss_after_load_mib"] = round(process_rss_mib(simulator.pid), 1)

        addresses = [
            CameraAddress("127.0.0.1", args.port + i, USER, PASSWORD, timeout_s=10)
            for i in range(args.probes)
        ]
        results["client_vigie"] = asyncio.run(measure_vigie(addresses, 32))
        results["client_baseline"] = asyncio.run(measure_baseline(addresses, 32))
    finally:
        simulator.send_signal(2)
        simulator.wait(timeout=60)

    table = Table(title=f"ONVIF simulator ({args.cameras:,} cameras) and client")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("simulator start-up", f"{results['simulator_startup_s']} s")
    table.add_row(
        "simulator RSS (idle / after load)",
        f"{results['simulator_rss_mib']} / {results['simulator_rss_after_load_mib']} MiB",
    )
    for kind, label in (
        ("clock", "GetSystemDateAndTime"),
        ("info", "GetDeviceInformation (WS-Security)"),
        ("snapshot", "snapshot (HTTP digest, JPEG)"),
    ):
        row = results[f"load_{kind}"]
        table.add_row(f"{label}: req/s", f"{row['requests_per_s']:,} ({row['failed']} failed)")
        table.add_row(f"{label}: simulator CPU ms/req", f"{row['simulator_cpu_ms_per_request']}")
    for kind in ("vigie", "baseline"):
        row = results[f"client_{kind}"]
        table.add_row(f"client {kind}: CPU ms per probe", f"{row['cpu_ms_per_probe']}")
        table.add_row(f"client {kind}: probes/s", f"{row['probes_per_s']}")
        if "cpu_ms_per_repeat_probe" in row:
            table.add_row(
                f"client {kind}: CPU ms per repeat probe", f"{row['cpu_ms_per_repeat_probe']}"
            )
            table.add_row(f"client {kind}: repeat probes/s", f"{row['repeat_probes_per_s']}")
        table.add_row(f"client {kind}: memory per camera", f"{row['memory_per_camera_kib']} KiB")
    console.print(table)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
