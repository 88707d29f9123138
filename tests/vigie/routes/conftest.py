"""A service whose cameras have a supervision history: cam-a1 and cam-b1 DOWN with an open
incident, cam-a2 UP (tests.vigie.supervision_data)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supervision.states import Policy
from tests.vigie.conftest import Service
from tests.vigie.supervision_data import T0, add_cameras, ok, outage
from vigie import db
from vigie.supervisor.store import apply_result

OUTAGE = T0 + timedelta(hours=1)
"""cam-a1 and cam-b1 fail from here; DOWN at the third failure, 60 s later."""


def feed(service: Service, results) -> None:
    """Apply results as the scheduler will: one transaction each."""
    with db.session_scope(db.session_factory(service.engine)) as session:
        for result in results:
            apply_result(session, result.camera_id, result, Policy(), result.time)


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
