"""A migrated database with cameras, settings with a key ring and the dispatcher's short
intervals (the helpers that write events: tests.helpers.webhook_data)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.service import make_settings
from tests.helpers.webhook_data import FAST
from vigie import db
from vigie.credentials import KeyRing
from vigie.settings import Settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **FAST)


@pytest.fixture
def sessions(seeded: Engine) -> sessionmaker[Session]:
    return db.session_factory(seeded)


@pytest.fixture
def ring(settings: Settings) -> KeyRing:
    return KeyRing.from_settings(settings)
