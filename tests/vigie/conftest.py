"""A migrated database with communes, users of every role, and an app served over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.helpers.service import Service, make_settings, running_service, seed
from tests.helpers.supervision_data import add_cameras
from vigie.settings import Settings


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """The database of :func:`seed`, with the supervision tests' cameras (``supervision_data``)."""
    seed(engine)
    add_cameras(engine)
    return engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    with running_service(settings) as service:
        yield service
