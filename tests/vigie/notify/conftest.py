"""A migrated database with cameras, a real SMTP server and a real SMS gateway on loopback
(the helpers: tests.helpers.notify_servers, tests.helpers.notify_data)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.notify_servers import SmsGateway, SmtpServer
from vigie import db


@pytest.fixture
def sessions(seeded: Engine) -> sessionmaker[Session]:
    return db.session_factory(seeded)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    server = SmsGateway().start()
    yield server
    server.stop()
