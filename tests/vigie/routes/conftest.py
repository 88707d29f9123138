"""A service whose cameras have a supervision history: cam-a1 and cam-b1 DOWN with an open
incident, cam-a2 UP (tests.helpers.supervision_data)."""

from __future__ import annotations

import pytest

from tests.helpers.service import Service
from tests.helpers.supervision_data import OUTAGE, T0, add_cameras, feed, ok, outage


@pytest.fixture
def supervised(service: Service) -> Service:
    add_cameras(service.engine)
    feed(
        service,
        [
            ok("cam-a1", T0),
            ok("cam-a2", T0),
            ok("cam-b1", T0),
            *outage("cam-a1", OUTAGE, failures=3, recoveries=0),
            *outage("cam-b1", OUTAGE, failures=3, recoveries=0),
            ok("cam-a2", OUTAGE),
        ],
    )
    return service
