"""A real simulator (`vigie simulate` in a subprocess) for the probe and scheduler tests.

Its own port range (below the one of ``tests/cameras``) so both can run in one session. And the
picture-health tests' scene (a real photograph framed as a camera sees it) with its day
reference, shared by ``test_imaging`` and ``test_imaging_regimes``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from supervision.imaging import Reference
from tests.helpers import picture_faults as pf
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


@pytest.fixture(scope="module")
def canvas() -> np.ndarray:
    """The picture-health tests' scene: the astronaut photograph."""
    return pf.scene("astronaut")


@pytest.fixture(scope="module")
def base(canvas: np.ndarray) -> np.ndarray:
    """The scene framed as a camera sees it."""
    return pf.view(canvas)


@pytest.fixture(scope="module")
def reference(base: np.ndarray) -> Reference:
    """The scene's reference, learned from three day snapshots with sensor noise."""
    rng = np.random.default_rng(1)
    return Reference.learn([pf.camera(base, rng) for _ in range(3)])
