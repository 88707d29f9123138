"""``GET /api/v1/supervision/nodes``: who supervises, alive or not, and the cameras each holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.helpers.service import Service, make_settings, running_service
from tests.helpers.supervision_data import CAMERAS, add_cameras
from vigie import db
from vigie.clock import utcnow
from vigie.models import SupervisorRun
from vigie.supervisor import leases


def add_run(service: Service, node: str, *, ago: timedelta, stopped: bool = False) -> int:
    at = utcnow() - ago
    with db.session_scope(db.session_factory(service.engine)) as session:
        run = SupervisorRun(
            started_at=at, last_beat_at=at, node=node, stopped_at=at if stopped else None
        )
        session.add(run)
        session.flush()
        return run.id


def nodes(service: Service, user: str = "operator") -> dict:
    answer = service.client.get("/api/v1/supervision/nodes", headers=service.headers(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_only_the_centre_and_its_monitoring_see_the_nodes(service: Service) -> None:
    for user, status in (
        ("admin", 200),
        ("operator", 200),
        ("prometheus", 200),
        ("gendarme", 403),
        ("mairie-27056", 403),
        ("engineer", 403),
    ):
        answer = service.client.get("/api/v1/supervision/nodes", headers=service.headers(user))
        assert answer.status_code == status, user
    assert service.client.get("/api/v1/supervision/nodes").status_code == 401


def test_nodes_alive_stopped_and_dead_with_their_cameras(service: Service) -> None:
    add_cameras(service.engine)
    stopped = add_run(service, "host-a:11", ago=timedelta(hours=2), stopped=True)
    dead = add_run(service, "host-b:12", ago=timedelta(hours=1))
    alive = add_run(service, "host-c:13", ago=timedelta(seconds=1))
    postgres = service.engine.dialect.name == "postgresql"
    if postgres:  # the alive node holds every camera through its leases
        with db.session_scope(db.session_factory(service.engine)) as session:
            played = leases.play_round(session, alive, timedelta(seconds=30))
        assert len(played.held) == len(CAMERAS)
    answer = nodes(service)
    assert answer["cameras"] == len(CAMERAS)
    assert answer["unheld"] == 0
    listed = {n["run"]: n for n in answer["nodes"]}
    assert [n["run"] for n in answer["nodes"]] == [alive, dead, stopped]  # newest first
    assert listed[alive]["alive"] and listed[alive]["cameras"] == len(CAMERAS)
    assert listed[alive]["node"] == "host-c:13"
    assert not listed[dead]["alive"] and listed[dead]["cameras"] == 0
    assert not listed[stopped]["alive"] and listed[stopped]["stopped_at"] is not None


@pytest.fixture
def postgres_service(postgres_url: str) -> Iterator[Service]:
    with running_service(make_settings(postgres_url)) as service:
        yield service


@pytest.mark.postgres
def test_cameras_of_a_dead_node_show_as_unheld(postgres_service: Service) -> None:
    service = postgres_service  # leases are PostgreSQL's; SQLite's single node: the test above
    add_cameras(service.engine)
    gone = add_run(service, "host-d:14", ago=timedelta(seconds=1))
    with db.session_scope(db.session_factory(service.engine)) as session:
        leases.play_round(session, gone, timedelta(seconds=30))
    with service.engine.begin() as connection:
        connection.execute(
            text("UPDATE supervisor_runs SET seen_at = now() - interval '1 hour' WHERE id = :r"),
            {"r": gone},
        )
    answer = nodes(service, "prometheus")
    assert answer["unheld"] == len(CAMERAS)
    assert answer["nodes"][0]["alive"] is False
    assert answer["nodes"][0]["cameras"] == len(CAMERAS)  # still its leases, until taken
