"""Backup and restore (README: Operations: several nodes): the ``pg_dump -Fc`` and ``pg_restore``
commands the README gives, run here without docker, bring the service back with every incident,
and it goes on numbering events and incidents where it stopped."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL, make_url, select

from tests.helpers.postgres import postgres_database
from tests.helpers.service import Service, make_settings, seed
from tests.helpers.supervision_data import OUTAGE, STEP, T0, add_cameras, feed, ok, outage
from vigie import db
from vigie.api import create_app
from vigie.models import EventHead, SupervisionEvent

pytestmark = pytest.mark.postgres

INCIDENTS = "/api/v1/incidents?include_suppressed=true&limit=500"
CLOSE = timedelta(minutes=10)
"""Well past the default ``close_after`` (5 minutes UP): a recovered camera's incident closes."""


def _connection(url: URL) -> list[str]:
    """The connection options of the README's commands, for this server instead of the
    container's socket (``docker compose exec postgres`` needs none but ``-U``)."""
    return ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or ""]


def backup(url: str, dump: Path) -> None:
    """``pg_dump -U vigie -Fc vigie > vigie.dump``."""
    parsed = make_url(url)
    with dump.open("wb") as out:
        subprocess.run(
            ["pg_dump", *_connection(parsed), "-Fc", parsed.database or ""],
            stdout=out,
            check=True,
            timeout=120,
        )


def restore(dump: Path, url: str) -> None:
    """``pg_restore -U vigie --no-owner --exit-on-error -d vigie_restored < vigie.dump``, into an
    empty database."""
    parsed = make_url(url)
    options = ["--no-owner", "--exit-on-error", "-d", parsed.database or ""]
    with dump.open("rb") as source:
        subprocess.run(
            ["pg_restore", *_connection(parsed), *options],
            stdin=source,
            check=True,
            timeout=120,
        )


@contextmanager
def served(url: str) -> Iterator[Service]:
    """The app over an existing database, as a node started on it (nothing seeded)."""
    settings = make_settings(url)
    engine = db.make_engine(url)
    try:
        with TestClient(create_app(settings)) as client:
            yield Service(client=client, settings=settings, engine=engine)
    finally:
        engine.dispose()


def last_seq(service: Service) -> int:
    with db.session_scope(db.session_factory(service.engine)) as session:
        return session.scalars(select(EventHead.last_seq)).one()


def incidents(service: Service) -> list[dict]:
    response = service.client.get(INCIDENTS, headers=service.headers("operator"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_service_resumes_on_a_restored_dump_with_every_incident(tmp_path: Path) -> None:
    dump = tmp_path / "vigie.dump"
    with postgres_database() as source_url:
        source = db.make_engine(source_url)
        seed(source)
        add_cameras(source)
        source.dispose()
        with served(source_url) as before:
            feed(
                before,
                [
                    ok("cam-a1", T0),
                    ok("cam-a2", T0),
                    ok("cam-b1", T0),
                    *outage("cam-a2", T0 + STEP, failures=3, recoveries=2),
                    ok("cam-a2", T0 + CLOSE),  # its incident closed
                    *outage("cam-a1", OUTAGE, failures=3, recoveries=0),  # open
                    *outage("cam-b1", OUTAGE, failures=3, recoveries=0),  # open
                ],
            )
            saved, seq = incidents(before), last_seq(before)
        backup(source_url, dump)

    assert [(i["camera_id"], i["closed_at"] is None) for i in saved] == [
        ("cam-b1", True),
        ("cam-a1", True),
        ("cam-a2", False),
    ]
    assert seq > 0
    with postgres_database() as restored_url:
        restore(dump, restored_url)
        with served(restored_url) as after:
            assert db.current_revision(after.engine) == db.head_revision()
            assert incidents(after) == saved
            assert last_seq(after) == seq
            later = OUTAGE + timedelta(minutes=5)
            recovery = [
                ok("cam-a1", later),
                ok("cam-a1", later + STEP),
                ok("cam-a1", later + CLOSE),
            ]
            feed(after, recovery)  # closes its incident
            feed(after, outage("cam-a2", later, failures=3, recoveries=0))  # opens a new one
            with db.session_scope(db.session_factory(after.engine)) as session:
                new = session.scalars(
                    select(SupervisionEvent.seq)
                    .where(SupervisionEvent.seq > seq)
                    .order_by(SupervisionEvent.seq)
                ).all()
            assert new == list(range(seq + 1, seq + 1 + len(new))) and new
            now = {i["id"]: i for i in incidents(after)}
            closed = next(i for i in saved if i["camera_id"] == "cam-a1")
            assert now[closed["id"]]["closed_at"] is not None
            (opened,) = [i for i in now.values() if i["id"] not in {s["id"] for s in saved}]
            assert opened["camera_id"] == "cam-a2" and opened["closed_at"] is None
            assert opened["id"] > max(i["id"] for i in saved)
