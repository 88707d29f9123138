from __future__ import annotations

from fastapi.testclient import TestClient

from vigie import db
from vigie.api import create_app
from vigie.settings import load_settings


def test_healthz_reports_ok_only_on_a_current_database(database_url: str) -> None:
    app = create_app(load_settings(database_url=database_url, environment="development"))
    with TestClient(app) as client:
        before = client.get("/healthz")
        assert before.status_code == 503
        assert before.json() == {"status": "unavailable"}
        db.upgrade(app.state.engine)
        after = client.get("/healthz")
        assert after.status_code == 200
        assert after.json() == {"status": "ok"}
        assert after.headers["x-content-type-options"] == "nosniff"


def test_openapi_is_served_under_api_v1(sqlite_url: str) -> None:
    with TestClient(
        create_app(load_settings(database_url=sqlite_url, environment="development"))
    ) as client:
        spec = client.get("/api/v1/openapi.json")
        assert spec.status_code == 200
        assert "/healthz" in spec.json()["paths"]
