"""A real simulator (`vigie simulate` in a subprocess) with one camera per fault, for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.camera_servers import (
    CAMERAS,
    FAULTS,
    PASSWORD,
    USERNAME,
    RunningSimulator,
    camera_block,
)
from tests.helpers.simulator import running_simulator


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    # below the ephemeral range (32768+), where outgoing connections could hold a port; apart
    # from other test runs on the machine and from the ports something already listens on
    base = camera_block()  # 21000-29799: under the fixed ports of 29800-29999 and 30000+
    with running_simulator(
        tmp_path_factory.mktemp("simulator"),
        cameras=CAMERAS,
        base_port=base,
        username=USERNAME,
        password=PASSWORD,
        faults=FAULTS,
    ) as token:
        yield RunningSimulator(base, base + CAMERAS, token)
