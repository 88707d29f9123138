"""The request's transaction commits before the answer leaves: no success for a lost change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.helpers.service import Service, make_settings, seed
from vigie import db
from vigie.api import create_app

# A check PostgreSQL runs only at COMMIT: it lets the route finish, then fails the transaction.
FAIL_AT_COMMIT = [
    """CREATE FUNCTION refuse_camera() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused at commit'; END $$""",
    """CREATE CONSTRAINT TRIGGER refuse_camera AFTER INSERT ON cameras
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.id = 'FAIL-AT-COMMIT') EXECUTE FUNCTION refuse_camera()""",
]


@pytest.mark.postgres
def test_a_commit_that_fails_is_an_error_not_a_success(postgres_url: str) -> None:
    settings = make_settings(postgres_url)
    engine = db.make_engine(postgres_url)
    seed(engine)
    with engine.begin() as connection:
        for statement in FAIL_AT_COMMIT:
            connection.execute(text(statement))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        service = Service(client=client, settings=settings, engine=engine)
        body = {
            "name": "x",
            "commune": "27056",
            "latitude": 49.0,
            "longitude": 1.0,
            "host": "10.0.0.1",
        }
        headers = service.headers("operator")
        failed = client.post(
            "/api/v1/cameras", headers=headers, json={**body, "id": "FAIL-AT-COMMIT"}
        )
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert "refused" not in failed.text  # the database's words stay in the logs
        stored = client.post("/api/v1/cameras", headers=headers, json={**body, "id": "OK-1"})
        assert stored.status_code == 201
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM cameras ORDER BY id")).scalars().all()
        audited = (
            connection.execute(
                text("SELECT object_id FROM audit_events WHERE action = 'camera.create'")
            )
            .scalars()
            .all()
        )
    assert ids == ["OK-1"]
    assert audited == ["OK-1"]  # the failed change left no audit row claiming it happened
    engine.dispose()
