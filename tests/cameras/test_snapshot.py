"""Snapshots against a crafted camera over real HTTP: the digest challenge re-used and renewed,
SHA-256, basic only when asked by a camera allowed it, caps, redirects and hosts.

The camera here checks digest itself (RFC 7616, written from the RFC, not aiohttp's code) and
keeps its nonces and their counts, so it can refuse a replayed count or declare a nonce stale,
which the simulator's stateless nonces cannot.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from cameras.client import OnvifClient
from cameras.errors import CameraAuthFailed, CameraBasicRefused, CameraProtocolError
from cameras.models import CameraAddress, Snapshot
from cameras.snapshot import DigestChallenges
from tests.helpers.camera_servers import run, serving

USER, PASSWORD = "operator", "s3cret-Test"
REALM = "crafted camera"
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass
class Crafted:
    """What the crafted camera does and what it saw."""

    scheme: str = "digest"  # or "basic"
    password: str = PASSWORD
    algorithm: str = "MD5"
    stale_flag: bool = True  # say stale=true when a good digest uses a forgotten nonce
    reply: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None  # once authed
    nonces: dict[str, int] = field(default_factory=dict)  # nonce -> last nonce count
    seen: list[str] = field(default_factory=list)  # the Authorization header of each request
    port: int = 0

    def challenge(self, *, stale: bool = False) -> str:
        if self.scheme == "basic":
            return f'Basic realm="{REALM}"'
        nonce = secrets.token_hex(16)
        self.nonces[nonce] = 0
        return (
            f'Digest realm="{REALM}", qop="auth", algorithm={self.algorithm}, nonce="{nonce}", '
            f'opaque="xyz"' + (", stale=true" if stale else "")
        )

    def check(self, header: str, method: str, uri: str) -> str:
        """``ok``, ``stale`` (right digest, forgotten nonce) or ``no``."""
        if self.scheme == "basic":
            expected = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
            return "ok" if header == f"Basic {expected}" else "no"
        if not header.startswith("Digest "):
            return "no"
        p = {m[0]: m[1] or m[2] for m in _PARAM.findall(header[7:])}
        h = _HASHES[self.algorithm]

        def hx(text: str) -> str:
            return h(text.encode()).hexdigest()

        if p.get("algorithm") != self.algorithm or p.get("qop") != "auth" or p["uri"] != uri:
            return "no"
        ha1, ha2 = hx(f"{USER}:{REALM}:{self.password}"), hx(f"{method}:{uri}")
        expected = hx(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        if p["username"] != USER or p["response"] != expected or p.get("opaque") != "xyz":
            return "no"
        count = int(p["nc"], 16)
        if p["nonce"] not in self.nonces:
            return "stale"
        if count <= self.nonces[p["nonce"]]:
            return "no"  # a replayed nonce count
        self.nonces[p["nonce"]] = count
        return "ok"


@asynccontextmanager
async def crafted_camera(camera: Crafted) -> AsyncIterator[Crafted]:
    """Serve ``camera`` on a free port of 127.0.0.1."""

    async def snap(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        camera.seen.append(header)
        verdict = camera.check(header, request.method, request.path_qs)
        if verdict != "ok":
            stale = verdict == "stale" and camera.stale_flag
            return web.Response(
                status=401, headers={"WWW-Authenticate": camera.challenge(stale=stale)}
            )
        if camera.reply is not None:
            return await camera.reply(request)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async with serving("GET", snap) as port:
        camera.port = port
        yield camera


def snapshots(
    camera: Crafted, uris: list[str], *, password: str = PASSWORD, basic_auth: bool = False
) -> list[object]:
    """Fetch each URI in turn with one client; the Snapshot or the error of each."""

    async def go() -> list[object]:
        async with crafted_camera(camera), OnvifClient(max_snapshot_bytes=100_000) as onvif:
            address = CameraAddress("127.0.0.1", camera.port, USER, password, 2.0, basic_auth)
            handle = onvif.camera(address)
            results: list[object] = []
            for uri in uris:
                try:
                    results.append(await handle.get_snapshot(uri.format(port=camera.port)))
                except Exception as error:  # the test looks at each
                    results.append(error)
            return results

    return run(go())


def test_the_challenge_is_answered_again_with_the_nonce_count_incremented() -> None:
    camera = Crafted()
    uri = "http://127.0.0.1:{port}/snap.jpg?JpegCam=1"
    results = snapshots(camera, [uri, uri, uri])
    assert all(isinstance(r, Snapshot) and r.auth_scheme == "digest" for r in results)
    # the first snapshot: the 401 challenge, then the answer; the next ones: the answer alone
    assert len(camera.seen) == 4
    assert camera.seen[0] == ""
    counts = [re.search(r"nc=(\w+)", h)[1] for h in camera.seen[1:]]
    assert counts == ["00000001", "00000002", "00000003"]
    assert len({re.search(r'nonce="(\w+)"', h)[1] for h in camera.seen[1:]}) == 1


@pytest.mark.parametrize("stale_flag", [True, False], ids=["stale=true", "plain 401"])
def test_a_stale_nonce_is_renewed_in_one_more_request(stale_flag: bool) -> None:
    camera = Crafted(stale_flag=stale_flag)
    uri = "http://127.0.0.1:{port}/snap.jpg"

    async def go() -> list[Snapshot]:
        async with crafted_camera(camera), OnvifClient() as onvif:
            handle = onvif.camera(CameraAddress("127.0.0.1", camera.port, USER, PASSWORD, 2.0))
            first = await handle.get_snapshot(uri.format(port=camera.port))
            camera.nonces.clear()  # the camera forgets its nonces (rebooted, or they expired)
            second = await handle.get_snapshot(uri.format(port=camera.port))
            return [first, second]

    assert [s.auth_scheme for s in run(go())] == ["digest", "digest"]
    # 401 + answer, then the old nonce refused (401 + new challenge) and the new one answered
    assert len(camera.seen) == 4
    old, new = (re.search(r'nonce="(\w+)"', h)[1] for h in camera.seen[2:])
    assert old != new


def test_sha256_digest() -> None:
    camera = Crafted(algorithm="SHA-256")
    uri = "http://127.0.0.1:{port}/snap.jpg"
    results = snapshots(camera, [uri, uri])
    assert all(isinstance(r, Snapshot) for r in results)
    assert "algorithm=SHA-256" in camera.seen[1]
    assert len(camera.seen) == 3


def test_a_wrong_password_is_refused_even_with_a_remembered_challenge() -> None:
    camera = Crafted()

    async def go() -> None:
        async with crafted_camera(camera), OnvifClient() as onvif:
            uri = f"http://127.0.0.1:{camera.port}/snap.jpg"
            handle = onvif.camera(CameraAddress("127.0.0.1", camera.port, USER, PASSWORD, 2.0))
            await handle.get_snapshot(uri)
            camera.password = "changed on the camera"
            with pytest.raises(CameraAuthFailed, match=r"HTTP 401 on the snapshot \(digest"):
                await handle.get_snapshot(uri)

    run(go())
    # the remembered challenge answered (refused), then the new one answered (refused)
    assert len(camera.seen) == 4 and camera.seen[2].startswith("Digest ")
    assert not any(h.startswith("Basic") for h in camera.seen)


def test_basic_only_when_the_camera_asks_and_never_the_uri_s_userinfo() -> None:
    camera = Crafted(scheme="basic")
    uri = "http://someone:else@127.0.0.1:{port}/snap.jpg"
    results = snapshots(camera, [uri], basic_auth=True)
    assert isinstance(results[0], Snapshot) and results[0].auth_scheme == "basic"
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert camera.seen == ["", f"Basic {expected}"]

    digest = Crafted()
    snapshots(digest, ["http://someone:else@127.0.0.1:{port}/snap.jpg"])
    assert digest.seen[0] == "" and digest.seen[1].startswith("Digest ")
    assert not any(h.startswith("Basic") for h in digest.seen)


def test_basic_is_refused_to_a_camera_not_allowed_it_and_nothing_is_sent() -> None:
    camera = Crafted(scheme="basic")
    (refused,) = snapshots(camera, ["http://127.0.0.1:{port}/snap.jpg"])
    assert isinstance(refused, CameraBasicRefused) and isinstance(refused, CameraAuthFailed)
    assert str(refused).startswith(f"127.0.0.1:{camera.port}: snapshot: ")
    assert "HTTP Basic" in str(refused) and "credentials not sent" in str(refused)
    assert camera.seen == [""]  # the unauthenticated request only


def test_wrong_host_or_scheme_sends_nothing() -> None:
    camera = Crafted()
    results = snapshots(
        camera,
        [
            "http://localhost:{port}/snap.jpg",
            "http://127.0.0.1@localhost:{port}/snap.jpg",
            "ftp://127.0.0.1:{port}/snap.jpg",
        ],
    )
    assert all(isinstance(r, CameraProtocolError) for r in results)
    assert "not the camera's: credentials not sent" in str(results[0])
    assert "not the camera's: credentials not sent" in str(results[1])
    assert "scheme 'ftp' is not HTTP" in str(results[2])
    assert camera.seen == []


def test_a_redirect_is_not_followed() -> None:
    async def redirect(_: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/other"})

    camera = Crafted(reply=redirect)
    results = snapshots(camera, ["http://127.0.0.1:{port}/snap.jpg"])
    assert isinstance(results[0], CameraProtocolError)
    assert "snapshot: HTTP 302" in str(results[0])
    assert len(camera.seen) == 2  # the challenge and the answer, not /other


def test_an_announced_oversize_body_is_refused_before_reading() -> None:
    async def big(_: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xff" + bytes(200_000), content_type="image/jpeg")

    camera = Crafted(reply=big)
    results = snapshots(camera, ["http://127.0.0.1:{port}/snap.jpg"])
    assert isinstance(results[0], CameraProtocolError)
    assert "reply of 200,003 bytes refused (limit 100,000)" in str(results[0])


def test_an_unannounced_oversize_body_is_abandoned_while_streaming() -> None:
    sent = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"\xff\xd8\xff")
        for _ in range(1000):  # 64 MiB if the client read it all
            await response.write(bytes(65536))
            sent.append(65536)
        return response

    results = snapshots(Crafted(reply=endless), ["http://127.0.0.1:{port}/snap.jpg"])
    assert isinstance(results[0], CameraProtocolError)
    assert "reply longer than 100,000 bytes, abandoned" in str(results[0])
    assert sum(sent) < 16 * 1024 * 1024  # the client hung up long before the end


def test_the_remembered_challenges_are_bounded() -> None:
    challenges = DigestChallenges(limit=2)
    addresses = [CameraAddress("10.0.0.1", 80 + i, USER, PASSWORD) for i in range(3)]
    first = challenges.middleware("http://10.0.0.1:80", addresses[0])
    assert challenges.middleware("http://10.0.0.1:80", addresses[0]) is first
    challenges.middleware("http://10.0.0.1:81", addresses[1])
    challenges.middleware("http://10.0.0.1:80", addresses[0])  # used again: now the newest
    challenges.middleware("http://10.0.0.1:82", addresses[2])
    assert len(challenges) == 2
    assert challenges.middleware("http://10.0.0.1:80", addresses[0]) is first
    changed = CameraAddress("10.0.0.1", 80, USER, "new password")
    assert challenges.middleware("http://10.0.0.1:80", changed) is not first
