from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers.service import Service, make_settings, seed
from vigie import db
from vigie.api import create_app
from vigie.errors import ConfigurationError
from vigie.models import AuditEvent
from vigie.settings import load_settings


def test_healthz_reports_ok_only_on_a_current_database(empty_database_url: str) -> None:
    app = create_app(load_settings(database_url=empty_database_url, environment="development"))
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


def test_production_refuses_to_start_without_a_secret_key(sqlite_url: str) -> None:
    with pytest.raises(ConfigurationError, match="VIGIE_SECRET_KEY is not set"):
        create_app(load_settings(database_url=sqlite_url))


def test_development_runs_with_a_random_key_per_app(sqlite_url: str) -> None:
    settings = load_settings(database_url=sqlite_url, environment="development")
    first, second = create_app(settings), create_app(settings)
    assert len(first.state.signing_key) >= 48
    assert first.state.signing_key != second.state.signing_key


def test_cors_is_closed_unless_configured(sqlite_url: str) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
    }
    closed = make_settings(sqlite_url)
    with TestClient(create_app(closed)) as client:
        response = client.options("/api/v1/cameras", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    opened = make_settings(sqlite_url, cors_origins=["https://centre.example"])
    with TestClient(create_app(opened)) as client:
        allowed = client.options(
            "/api/v1/cameras", headers={**preflight, "Origin": "https://centre.example"}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://centre.example"
        refused = client.options("/api/v1/cameras", headers=preflight)
        assert "access-control-allow-origin" not in refused.headers


def test_errors_are_problem_details_without_the_input(service: Service) -> None:
    headers = service.headers("admin")
    response = service.client.post(
        "/api/v1/cameras",
        headers=headers,
        json={"id": "bad id!", "password": "TopSecretCamPassword"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Unprocessable Content" or body["title"].startswith("Unprocessable")
    assert {"loc", "msg"} <= set(body["errors"][0])
    assert "TopSecretCamPassword" not in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_docs_are_served_only_in_development(sqlite_url: str) -> None:
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        assert client.get("/api/v1/docs").status_code == 404
    dev = load_settings(database_url=sqlite_url, environment="development")
    with TestClient(create_app(dev)) as client:
        assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("trusted", "forwarded", "seen"),
    [
        ([], "203.0.113.7", "10.1.2.3"),  # no trusted proxy (the default): the peer
        (["10.1.2.3"], "203.0.113.7", "203.0.113.7"),
        (["10.1.2.3"], "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the client's forgery left
        (["10.1.0.0/16"], "203.0.113.7, 10.1.9.9", "203.0.113.7"),  # proxies chained
        (["10.9.9.9"], "203.0.113.7", "10.1.2.3"),  # the peer is not a trusted proxy
    ],
)
def test_the_client_address_is_forwarded_only_by_trusted_proxies(
    sqlite_url: str, trusted: list[str], forwarded: str, seen: str
) -> None:
    """VIGIE_TRUSTED_PROXIES (README: Security): the audited address of a failed login."""
    settings = make_settings(sqlite_url, trusted_proxies=trusted)
    engine = db.make_engine(sqlite_url)
    seed(engine)
    engine.dispose()
    with TestClient(create_app(settings), client=("10.1.2.3", 40000)) as client:
        client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "nobody", "password": "not the one!"},
            headers={"X-Forwarded-For": forwarded},
        )
        with client.app.state.sessions() as session:
            ips = session.scalars(
                select(AuditEvent.ip).where(AuditEvent.action == "login.failure")
            ).all()
    assert ips == [seen]
