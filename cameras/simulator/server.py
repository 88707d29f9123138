"""The simulator: N virtual ONVIF cameras on N ports of one asyncio process, and its control API.

One aiohttp application serves every camera; each camera is one listening socket (an asyncio
server, a few KB), so one process holds 5,000 of them where one uvicorn per port could not. The
handler finds the camera from the port the request came in on. ``offline`` and ``flapping``
close and reopen the camera's listening socket, so a client really gets "connection refused".

The control API listens on 127.0.0.1 only *and* wants the bearer token printed at start: the
loopback binding keeps other machines out, the token keeps out other users and processes of the
machine (a browser page could otherwise reach a loopback port).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import resource
import secrets
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from lxml import etree

from cameras.errors import ScenarioError, SimulatorError
from cameras.picture_faults import PictureFault, PictureRenderer
from cameras.simulator import httpauth, personalities, recording, scenes, soap, tls
from cameras.simulator.scenario import Fault, FaultKind, Scenario, parse_fault

log = logging.getLogger(__name__)

FD_MARGIN = 256
"""File descriptors kept for client connections, the control API and the interpreter."""

RECONCILE_EVERY_S = 0.25
"""How often flapping cameras are switched (their period is seconds or more)."""

SNAPSHOT_PATH = "/snap.jpg"

MAIN = "main"
SnapshotSize = tuple[int, int] | Literal["main"]
"""A snapshot's size for every camera (width, height), or ``"main"``: each camera's own
main-profile size (its scenario ``resolutions`` rule, else the recorded camera's 1920x1080)."""


def parse_snapshot_size(text: str) -> SnapshotSize:
    """``--snapshot-size``: ``"main"`` or ``WIDTHxHEIGHT`` within the bounds of
    :func:`scenes.check_size`; ValueError naming the option otherwise."""
    if text.strip().lower() == MAIN:
        return MAIN
    return scenes.parse_size(text, option="--snapshot-size")


@dataclass(slots=True, eq=False)
class VirtualCamera:
    """One simulated camera: its port, its faults, and its picture state."""

    index: int
    port: int
    faults: dict[FaultKind, Fault] = field(default_factory=dict)
    renderer: PictureRenderer = field(default_factory=PictureRenderer)
    sequence: int = 0
    resolution: tuple[int, int] | None = None
    """The main profile's size it reports (None: the recorded camera's)."""
    snapshot_size: tuple[int, int] = scenes.FRAME_SIZE
    """Width, height of its snapshots."""
    fault_since: float = field(default_factory=time.monotonic)
    personality: personalities.Personality = field(
        default_factory=lambda: personalities.personality(personalities.DEFAULT)
    )
    sensor_renderers: dict[int, PictureRenderer] = field(default_factory=dict)
    """The picture state of its other sensors (a multi-sensor personality)."""
    tls: ssl.SSLContext | None = None
    """Its HTTPS context (its own certificate); None: plain HTTP."""
    subscriptions: set[str] = field(default_factory=set)
    """Paths of its live event subscriptions (a restart forgets them, as real cameras do)."""
    site: web.TCPSite | None = None

    @property
    def serial(self) -> str:
        """A serial number in the recorded camera's format, marked as simulated."""
        return f"SIM{self.index:015d}"

    def fault(self, kind: FaultKind) -> Fault | None:
        """The camera's fault of this kind, if it has one."""
        return self.faults.get(kind)

    def is_up(self, now: float) -> bool:
        """Whether the camera answers at monotonic time ``now``."""
        if FaultKind.offline in self.faults:
            return False
        flapping = self.faults.get(FaultKind.flapping)
        if flapping is None:
            return True
        return int((now - self.fault_since) / flapping.period_s) % 2 == 0

    def clock(self) -> datetime:
        """The camera's own clock (UTC), drifted if it has a clock_drift fault."""
        drift = self.faults.get(FaultKind.clock_drift)
        now = datetime.now(UTC)
        return now + timedelta(seconds=drift.seconds) if drift else now

    def picture_faults(self) -> frozenset[PictureFault]:
        """The picture faults among its faults (a PTZ head turned away shows another view)."""
        faults = {k.picture for k in self.faults if k.picture is not None}
        if FaultKind.ptz_moved in self.faults and self.personality.offers("PTZ_GetStatus"):
            faults.add(PictureFault.displaced)
        return frozenset(faults)

    def status(self, now: float) -> dict[str, Any]:
        """What the control API reports."""
        return {
            "index": self.index,
            "port": self.port,
            "up": self.is_up(now),
            "faults": [f.model_dump(mode="json") for f in self.faults.values()],
        }


OTHER_SENSOR_SCENES = 97
"""How far another sensor's scene is from the camera's own (another view of the place)."""


def _sensor_view(
    request: web.Request, camera: VirtualCamera
) -> tuple[int, frozenset[PictureFault], PictureRenderer] | None:
    """The scene, picture faults and picture state of the sensor a snapshot request is for
    (``sensor=N`` in the query, 1 without); None for a sensor the camera does not have."""
    raw = request.query.get("sensor", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= camera.personality.video_sources:
        return None
    sensor = int(raw)
    if sensor == 1:
        return camera.index, camera.picture_faults(), camera.renderer
    # another sensor of a multi-sensor camera: another view, and only its own loss
    lost = camera.faults.get(FaultKind.sensor_loss)
    dead = lost is not None and lost.sensor == sensor
    return (
        camera.index + OTHER_SENSOR_SCENES * (sensor - 1),
        frozenset({PictureFault.video_loss}) if dead else frozenset(),
        camera.sensor_renderers.setdefault(sensor, PictureRenderer()),
    )


def _event_states(camera: VirtualCamera) -> dict[str, bool]:
    """What the camera's own analytics report of its faults, by event topic."""
    faults = camera.faults
    return {
        "tns1:VideoSource/GlobalSceneChange": bool(
            {FaultKind.covered, FaultKind.displaced} & set(faults)
        ),
        "tns1:VideoSource/ImageTooDark": FaultKind.video_loss in faults,
        "tns1:Device/HardwareFailure/StorageFailure": FaultKind.storage_failure in faults,
    }


def raise_open_file_limit(cameras: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; fail clearly if that is still too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = cameras + FD_MARGIN
    if soft < hard and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < needed:
        raise SimulatorError(
            f"{cameras} cameras need about {needed} open files (one listening socket each, plus "
            f"connections) but the limit is {soft} (hard limit {hard}): raise the hard limit "
            "(`ulimit -Hn`, or LimitNOFILE= in a systemd unit) or simulate fewer cameras"
        )
    return soft, hard


class Simulator:
    """N virtual cameras on ports ``port`` .. ``port + N - 1`` of ``host``, with a control API.

    Lifecycle: ``await start()``, then ``await stop()`` (or ``async with``).
    """

    def __init__(
        self,
        cameras: int,
        port: int,
        *,
        host: str = "127.0.0.1",
        scenario: Scenario | None = None,
        control_port: int | None = None,
        control_token: str | None = None,
        scenario_source: str = "scenario",
        snapshot_size: SnapshotSize = scenes.FRAME_SIZE,
        personality: str = personalities.DEFAULT,
    ) -> None:
        if cameras < 1:
            raise SimulatorError("--cameras must be at least 1")
        if not 1 <= port <= 65535 - cameras + 1:
            raise SimulatorError(f"ports {port}-{port + cameras - 1} are not all valid TCP ports")
        self.host = host
        self.scenario = scenario or Scenario()
        faults = self.scenario.faults_by_camera(cameras, source=scenario_source)
        self.cameras = [VirtualCamera(index=i, port=port + i) for i in range(cameras)]
        for index, items in faults.items():
            self.cameras[index].faults = {f.kind: f for f in items}
        default = personalities.personality(personality)
        chosen = self.scenario.personality_by_camera(cameras, source=scenario_source)
        for camera in self.cameras:
            camera.personality = personalities.personality(chosen.get(camera.index, default.name))
        for index in self.scenario.tls_cameras(cameras, source=scenario_source):
            self.cameras[index].tls = tls.server_context(host)
        sizes = self.scenario.resolution_by_camera(cameras, source=scenario_source)
        for index, size in sizes.items():
            self.cameras[index].resolution = size
        self.snapshot_size = snapshot_size
        self._size_snapshots(snapshot_size)
        self._by_port = {camera.port: camera for camera in self.cameras}
        self.control_port = port + cameras if control_port is None else control_port
        self.control_token = control_token or secrets.token_urlsafe(24)
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._control: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.requests = 0

    def _size_snapshots(self, snapshot_size: SnapshotSize) -> None:
        """Give each camera its snapshot size; a size out of bounds is refused before start."""
        for camera in self.cameras:
            if snapshot_size == MAIN:
                camera.snapshot_size = camera.resolution or soap.RECORDED_MAIN
                option = f"--snapshot-size main: camera {camera.index}'s main profile"
            else:
                camera.snapshot_size = snapshot_size
                option = "--snapshot-size"
            try:
                scenes.check_size(camera.snapshot_size, option=option)
            except ValueError as error:
                hint = " (set by the scenario's resolutions; give a WxH instead)"
                raise SimulatorError(f"{error}{hint if snapshot_size == MAIN else ''}") from None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def control_url(self) -> str:
        """Base URL of the control API."""
        return f"http://127.0.0.1:{self.control_port}"

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Open every camera's port (except those down at start) and the control API."""
        raise_open_file_limit(len(self.cameras))
        sizes = {camera.snapshot_size for camera in self.cameras}
        await asyncio.get_running_loop().run_in_executor(None, scenes.warm_up, sizes)
        app = web.Application(client_max_size=soap.MAX_REQUEST_BYTES)
        # Any path: vendors put their services and snapshots where they like (/onvif/Media,
        # /onvif-http/snapshot, /LAPI/V1.0/...); requests are told apart by the SOAP namespace.
        app.router.add_post("/{path:.*}", self._soap)
        app.router.add_get("/{path:.*}", self._snapshot)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        now = time.monotonic()
        for done, camera in enumerate(self.cameras, start=1):
            if camera.is_up(now):
                await self._open(camera)
            if progress is not None and (done % 250 == 0 or done == len(self.cameras)):
                progress(done, len(self.cameras))
        control = web.Application(middlewares=[self._authenticate], client_max_size=64 * 1024)
        control.router.add_get("/cameras", self._list)
        control.router.add_get("/cameras/{index}", self._show)
        control.router.add_put("/cameras/{index}/faults", self._replace_faults)
        control.router.add_post("/cameras/{index}/faults", self._add_fault)
        control.router.add_delete("/cameras/{index}/faults", self._clear_faults)
        self._control = web.AppRunner(control, access_log=None, handle_signals=False)
        await self._control.setup()
        try:
            await web.TCPSite(self._control, "127.0.0.1", self.control_port).start()
        except OSError as error:
            await self.stop()
            raise SimulatorError(
                f"control API: cannot listen on 127.0.0.1:{self.control_port}: {error.strerror}"
                " (choose another --control-port)"
            ) from error
        self._ticker = asyncio.create_task(self._reconcile_forever())

    async def stop(self) -> None:
        """Release hung requests, close every port; safe to call twice."""
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        for runner in (self._control, self._runner):
            if runner is not None:
                await runner.cleanup()
        self._control = self._runner = None
        for camera in self.cameras:
            camera.site = None

    async def _open(self, camera: VirtualCamera) -> None:
        assert self._runner is not None
        site = web.TCPSite(
            self._runner,
            self.host,
            camera.port,
            reuse_address=True,
            backlog=128,
            ssl_context=camera.tls,
        )
        try:
            await site.start()
        except OSError as error:
            await self.stop()
            raise SimulatorError(
                f"camera {camera.index}: cannot listen on {self.host}:{camera.port}: "
                f"{error.strerror} (choose another --port, or fewer cameras)"
            ) from error
        camera.site = site

    async def _close(self, camera: VirtualCamera) -> None:
        camera.subscriptions.clear()
        if camera.site is not None:
            await camera.site.stop()
            camera.site = None

    async def _reconcile(self, cameras: Iterable[VirtualCamera]) -> None:
        now = time.monotonic()
        for camera in cameras:
            up = camera.is_up(now)
            if up and camera.site is None and not self._stopping.is_set():
                await self._open(camera)
            elif not up and camera.site is not None:
                await self._close(camera)

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_EVERY_S)
            await self._reconcile(c for c in self.cameras if FaultKind.flapping in c.faults)

    async def set_faults(self, index: int, faults: Iterable[Fault]) -> VirtualCamera:
        """Replace a camera's faults now (the control API's entry point, usable in tests)."""
        camera = self.cameras[index]
        rekeyed = FaultKind.rekeyed not in camera.faults
        camera.faults = {fault.kind: fault for fault in faults}
        camera.fault_since = time.monotonic()
        if rekeyed and FaultKind.rekeyed in camera.faults and camera.tls is not None:
            # a new key: connections made with the old certificate end with the old site
            camera.tls = tls.server_context(self.host)
            await self._close(camera)
        await self._reconcile([camera])
        return camera

    # --- the cameras -----------------------------------------------------------------------

    def _camera_of(self, request: web.Request) -> VirtualCamera | None:
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        return self._by_port.get(sockname[1]) if sockname else None

    async def _misbehave(self, camera: VirtualCamera, request: web.Request) -> bool:
        """Apply down/hang/slow; True when the request must get no answer at all."""
        if not camera.is_up(time.monotonic()):
            return True  # a keep-alive connection opened before the camera went down
        transport = request.transport
        if (
            camera.tls is not None
            and transport is not None
            and transport.get_extra_info("sslcontext") is not camera.tls
        ):
            return True  # a connection made with its previous key went with the re-key
        if FaultKind.hang in camera.faults:
            await self._stopping.wait()
            return True
        slow = camera.faults.get(FaultKind.slow)
        if slow is not None:
            await asyncio.sleep(slow.delay_s)
        return False

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)

    async def _soap(self, request: web.Request) -> web.StreamResponse:
        camera = self._camera_of(request)
        if camera is None:
            return web.Response(status=404)
        self.requests += 1
        if await self._misbehave(camera, request):
            return self._drop(request)
        reply = self.soap_reply(
            camera,
            await request.read(),
            authorization=request.headers.get("Authorization", ""),
            path=request.path_qs,
        )
        headers = {"Content-Type": reply.content_type, **reply.headers}
        if camera.tls is not None:  # its addresses are HTTPS ones
            own = f"http://{self.host}:{camera.port}/".encode()
            reply = replace(reply, body=reply.body.replace(own, b"https" + own[4:]))
        if camera.personality.name != personalities.DEFAULT:
            # A camera's web server dates its replies on its own clock (clients use it).
            headers["Date"] = format_datetime(camera.clock(), usegmt=True)
        return web.Response(status=reply.status, body=reply.body, headers=headers)

    def soap_reply(  # noqa: PLR0911 -- one return per way a camera answers
        self, camera: VirtualCamera, body: bytes, *, authorization: str = "", path: str = "/"
    ) -> soap.Reply:
        """What ``camera`` answers to a SOAP request, given its personality and faults (no
        I/O); ``authorization`` and ``path`` are the HTTP request's, for HTTP digest."""
        if FaultKind.garbage in camera.faults:
            return soap.Reply(200, os.urandom(1500))
        hostile = camera.faults.get(FaultKind.hostile_xml)
        if hostile is not None:
            return soap.Reply(200, soap.hostile(hostile.variant))
        try:
            envelope = soap.parse_request(body)
            operation = soap.request_operation(envelope)
        except ValueError as error:
            return soap.fault("Sender", "ter:WellFormed", f"bad request: {error}", 400)
        qname = etree.QName(operation)
        name = qname.localname
        camera_now = camera.clock()
        persona = camera.personality
        open_call = name in soap.UNAUTHENTICATED and not persona.clock_auth
        if not open_call:
            refusal = self._refusal(camera, envelope, authorization, path, camera_now)
            if isinstance(refusal, soap.Reply):
                return refusal
            if refusal is not None:
                log.debug("camera %d: %s refused: %s", camera.index, name, refusal)
                return soap.not_authorized()
        if FaultKind.soap_fault in camera.faults:
            return soap.fault("Receiver", "ter:Action", "internal error (simulated fault)", 500)
        if persona.name == personalities.DEFAULT and name in recording.RECORDING_OPERATIONS:
            return self._recording_answer(camera, name, soap.token_of(operation), camera_now)
        if persona.name == personalities.DEFAULT:
            device = soap.Device(self.host, camera.port, camera.serial, camera.resolution)
            return soap.answer(name, soap.token_of(operation), device, camera_now)
        return self._personal_answer(
            camera,
            namespace=qname.namespace or "",
            name=name,
            camera_now=camera_now,
            path=path,
            token=soap.token_of(operation),
        )

    @staticmethod
    def _recording_answer(
        camera: VirtualCamera, name: str, token: str, camera_now: datetime
    ) -> soap.Reply:
        """The default camera's Profile G answers, with its recording faults."""
        if name == "GetRecordingJobState" and token != recording.TOKEN:
            return soap.fault("Sender", "ter:InvalidArgVal", f"no recording job {token!r}", 400)
        stopped = next(
            (
                k.value
                for k in (FaultKind.storage_failed, FaultKind.recording_stopped)
                if k in camera.faults
            ),
            None,
        )
        stopped_for = timedelta(seconds=time.monotonic() - camera.fault_since)
        text = recording.reply(name, camera_now, stopped=stopped, stopped_for=stopped_for)
        return soap.Reply(200, text.encode())

    def _refusal(
        self,
        camera: VirtualCamera,
        envelope: etree._Element,
        authorization: str,
        path: str,
        camera_now: datetime,
    ) -> soap.Reply | str | None:
        """Why the credentials of a request are refused (a 401 reply for HTTP digest), or
        None when they are accepted, by the personality's scheme."""
        user, password = self.scenario.username, self.scenario.password
        scheme = camera.personality.soap_auth
        if FaultKind.auth_failure in camera.faults:
            return "this camera refuses every credential (auth_failure)"
        if scheme is not personalities.SoapAuth.WS_SECURITY and not httpauth.check_digest(
            authorization, "POST", path, user, password
        ):
            return soap.Reply(
                401,
                b"<html><body><h1>401 Unauthorized</h1></body></html>",
                "text/html",
                {"WWW-Authenticate": httpauth.digest_challenge()},
            )
        if scheme is personalities.SoapAuth.HTTP_DIGEST:
            if soap.has_username_token(envelope):
                return "WS-Security is off on this camera: a UsernameToken is refused"
            return None
        return soap.check_username_token(envelope, user, password, camera_now)

    def _personal_answer(
        self,
        camera: VirtualCamera,
        *,
        namespace: str,
        name: str,
        camera_now: datetime,
        path: str,
        token: str,
    ) -> soap.Reply:
        """The personality's captured reply, made this camera's."""
        persona = camera.personality
        text = persona.reply(namespace, name)
        if text is not None and persona.video_sources > 1:
            text = personalities.with_sensors(text, name, token, persona.video_sources)
        if name == "PullMessages" and text is not None:
            if urlsplit(path).path not in camera.subscriptions:
                return soap.fault(
                    "Sender", "wsrf-rw:ResourceUnknownFault", "no such subscription", 400
                )
            text = personalities.with_event_states(text, _event_states(camera))
        if text is None:
            return soap.fault("Sender", "ter:ActionNotSupported", f"{name} is not supported", 400)
        if name == "GetSystemDateAndTime":
            text = personalities.with_clock(text, camera_now)
        moved = camera.faults.get(FaultKind.ptz_moved)
        if name == "GetStatus" and moved is not None:
            text = personalities.with_ptz_position(text, moved.pan, moved.tilt, moved.zoom)
        text = personalities.make_own(text, host=self.host, port=camera.port, serial=camera.serial)
        if name == "CreatePullPointSubscription":
            for address in re.findall(r"Address>\s*([^<\s]+)", text):
                camera.subscriptions.add(urlsplit(address).path)
        return soap.Reply(200, text.encode())

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        camera = self._camera_of(request)
        if camera is None:
            return web.Response(status=404)
        self.requests += 1
        if await self._misbehave(camera, request):
            return self._drop(request)
        view = _sensor_view(request, camera)
        if request.path not in camera.personality.snapshot_paths or view is None:
            return web.Response(status=404)
        header = request.headers.get("Authorization", "")
        user, password = self.scenario.username, self.scenario.password
        if FaultKind.basic_auth in camera.faults or camera.personality.snapshot_auth == "basic":
            authorised = httpauth.check_basic(header, user, password)
            challenge = httpauth.basic_challenge()
        else:
            uri = request.path_qs
            authorised = httpauth.check_digest(header, request.method, uri, user, password)
            challenge = httpauth.digest_challenge()
        if not authorised or FaultKind.auth_failure in camera.faults:
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        if FaultKind.garbage in camera.faults:
            return web.Response(body=os.urandom(2000), content_type="image/jpeg")
        camera.sequence += 1
        index, faults, renderer = view
        jpeg = await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: scenes.render_snapshot(
                index,
                faults,
                renderer,
                sequence=camera.sequence,
                size=camera.snapshot_size,
            ),
        )
        return await self._send_and_forget(request, jpeg)

    @staticmethod
    async def _send_and_forget(request: web.Request, jpeg: bytes) -> web.StreamResponse:
        """Send the JPEG, keeping no reference to it once sent.

        aiohttp keeps a connection's last response alive while it waits for the next request
        (an hour by default); a ``web.Response`` holds its body, so 2,000 idle keep-alive
        connections held 660 MB of 1080p JPEGs. A streamed response does not keep what it wrote.
        """
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(jpeg)
        await response.prepare(request)
        await response.write(jpeg)
        await response.write_eof()
        return response

    # --- the control API -------------------------------------------------------------------

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {self.control_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.json_response(
                {"title": "give the token printed at start as 'Authorization: Bearer TOKEN'"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            return await handler(request)
        except ScenarioError as error:
            return web.json_response({"title": str(error)}, status=400)

    def _camera_at(self, request: web.Request) -> VirtualCamera:
        text = request.match_info["index"]
        if not text.isdigit() or int(text) >= len(self.cameras):
            title = f"no camera {text[:20]!r}: cameras are 0-{len(self.cameras) - 1}"
            raise web.HTTPNotFound(
                text=json.dumps({"title": title}), content_type="application/json"
            )
        return self.cameras[int(text)]

    async def _list(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        return web.json_response({"cameras": [c.status(now) for c in self.cameras]})

    async def _show(self, request: web.Request) -> web.Response:
        return web.json_response(self._camera_at(request).status(time.monotonic()))

    async def _faults_in(self, request: web.Request) -> list[Fault]:
        try:
            data = await request.json()
        except ValueError as error:
            raise ScenarioError(f"{request.path}: the body is not JSON") from error
        items = data.get("faults") if isinstance(data, dict) and "faults" in data else [data]
        if not isinstance(items, list):
            raise ScenarioError(f"{request.path}: 'faults' must be a list")
        return [
            parse_fault(item, source=f"{request.path} faults[{i}]") for i, item in enumerate(items)
        ]

    async def _replace_faults(self, request: web.Request) -> web.Response:
        camera = self._camera_at(request)
        faults = await self._faults_in(request)
        await self.set_faults(camera.index, faults)
        return web.json_response(camera.status(time.monotonic()))

    async def _add_fault(self, request: web.Request) -> web.Response:
        camera = self._camera_at(request)
        faults = [*camera.faults.values(), *(await self._faults_in(request))]
        await self.set_faults(camera.index, faults)
        return web.json_response(camera.status(time.monotonic()))

    async def _clear_faults(self, request: web.Request) -> web.Response:
        camera = self._camera_at(request)
        await self.set_faults(camera.index, [])
        return web.json_response(camera.status(time.monotonic()))
