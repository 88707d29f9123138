"""A migrated database with communes, users of every role, and an app served over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.helpers.service import Service, make_settings, seed
from tests.helpers.supervision_data import add_cameras
from vigie import db
from vigie.api import create_app
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
    engine = db.make_engine(settings.db_url)
    seed(engine)
    with TestClient(create_app(settings)) as client:
        yield Service(client=client, settings=settings, engine=engine)
    engine.dispose()
