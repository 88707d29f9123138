"""A real simulator (`vigie simulate` in a subprocess) for the probe and scheduler tests.

Its own port range (below the one of ``tests/cameras``) so both can run in one session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.probe_simulator import CAMERAS, FAULTS, PASSWORD, USERNAME, Sim
from tests.helpers.simulator import running_simulator


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    # below tests/cameras' range (21000+) and the ephemeral one (32768+)
    base = 12000 + (os.getpid() % 60) * 150
    with running_simulator(
        tmp_path_factory.mktemp("supervision-simulator"),
        cameras=CAMERAS,
        base_port=base,
        username=USERNAME,
        password=PASSWORD,
        faults=FAULTS,
    ) as token:
        yield Sim(base, base + CAMERAS, token)
