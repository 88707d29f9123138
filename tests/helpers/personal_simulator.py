"""The simulator in process, each camera playing a vendor personality, for the tests of the
client against real firmwares' replies (tests/cameras/test_personalities.py).

Its ports are 11000-11199 (the helpers' port plan), a third of them per part of
``scripts/run-tests`` (``http_server.share``): one simulator at a time, from the start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from cameras.models import CameraAddress
from cameras.simulator.personalities import personalities
from cameras.simulator.scenario import parse_scenario
from cameras.simulator.server import Simulator
from tests.helpers.http_server import share

BASE_PORT = share(range(11000, 11200)).start
USERNAME = "operator"
PASSWORD = "Field-s3cret"

NAMES = sorted(personalities())
"""Every personality, in a fixed order (camera i plays ``NAMES[i]`` in ``every_personality``)."""


@asynccontextmanager
async def personal_simulator(
    chosen: Mapping[int, str],
    faults: Mapping[int, dict[str, Any]] | None = None,
    *,
    tls: list[int] | None = None,
) -> AsyncIterator[Simulator]:
    """A simulator whose camera ``i`` plays ``chosen[i]`` with ``faults[i]``; the cameras of
    ``tls`` serve HTTPS."""
    cameras = max(chosen) + 1
    scenario = parse_scenario(
        {
            "username": USERNAME,
            "password": PASSWORD,
            "personalities": [{"cameras": i, "personality": p} for i, p in chosen.items()],
            "faults": [{"cameras": i, **f} for i, f in (faults or {}).items()],
            "tls": [{"cameras": i} for i in tls or []],
        },
        source="test",
    )
    async with Simulator(cameras, BASE_PORT, scenario=scenario) as simulator:
        yield simulator


def address(index: int, *, password: str = PASSWORD, **kwargs: Any) -> CameraAddress:
    return CameraAddress("127.0.0.1", BASE_PORT + index, USERNAME, password, **kwargs)
