"""API fuzzing: schemathesis generates requests from the OpenAPI description and sends them to a
real server (uvicorn over HTTP on a seeded database), authenticated as a role allowed on the
operation. No answer may be a server error, and every answer must match what the description says
(status code documented, content type, body schema, headers).

The server runs once per module; the operations run in a fixed order and may change the
database (create a camera, delete a window): that is what they are for, and a later operation
must cope with it like the service does in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.http_server import serve_in_thread
from tests.helpers.postgres import postgres_database
from tests.helpers.route_table import MATRIX, endpoints
from tests.helpers.service import PASSWORD, make_settings, seed
from tests.helpers.supervision_data import CAMERAS, STEP, T0, add_cameras, down, full, ok
from vigie import db
from vigie.api import create_app
from vigie.auth.roles import Role
from vigie.supervisor.store import apply_result

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _seed_supervision(engine) -> None:
    """Cameras with history: an open incident, a closed one, a degraded camera."""
    from supervision.states import Policy

    add_cameras(engine)
    policy = Policy()
    with db.session_scope(db.session_factory(engine)) as session:
        at = T0
        for _ in range(4):
            at += STEP
            apply_result(session, "cam-a1", down("cam-a1", at), policy, at)
            apply_result(session, "cam-a2", ok("cam-a2", at), policy, at)
        for _ in range(3):
            at += STEP
            apply_result(session, "cam-b1", full("cam-b1", at, "blurred"), policy, at)
        later = at + timedelta(minutes=10)
        apply_result(session, "cam-a2", ok("cam-a2", later), policy, later)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Both databases: PostgreSQL refuses what SQLite takes (NUL characters, big integers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'vigie.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def base_url(database: str) -> Iterator[str]:
    app_settings = make_settings(database)
    engine = db.make_engine(app_settings.db_url)
    seed(engine)
    _seed_supervision(engine)
    engine.dispose()
    running = serve_in_thread(create_app(app_settings))
    yield running.url
    running.stop()


@pytest.fixture(scope="module")
def tokens(base_url: str) -> dict[Role, str]:
    """A token per role: the admin's from the password flow (API tokens cannot be admin), the
    others API tokens, which survive the logouts and lockouts the fuzzer may cause."""
    with httpx.Client(base_url=base_url) as client:
        login = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        result = {Role.ADMIN: login.json()["access_token"]}
        for role in (r for r in Role if r is not Role.ADMIN):
            created = client.post(
                "/api/v1/tokens",
                json={
                    "name": f"fuzz-{role.value}",
                    "role": role.value,
                    "days": 1,
                    "communes": ["27056"] if role is Role.COMMUNE else [],
                },
                headers=admin,
            )
            assert created.status_code == 201, created.text
            result[role] = created.json()["token"]
    return result


def _description() -> dict:
    """The OpenAPI description, as the app builds it (the same document it serves)."""
    return create_app(make_settings("sqlite://")).openapi()


SCHEMA = schemathesis.openapi.from_dict(_description())
STREAMS = {("GET", "/api/v1/live/sse")}
"""Endless event streams: schemathesis reads a whole body, which never comes. Their parameters,
refusals and resume are tested by tests/vigie/routes/test_live.py against a real server."""
OPERATIONS = {
    (op.method.upper(), op.path): op for op in (r.ok() for r in SCHEMA.get_all_operations())
}

# The role each operation is fuzzed as: the first of these the route admits (the role matrix of
# tests/vigie/test_routes.py), so that the requests reach the route's own code.
PREFERENCE = (Role.OPERATOR, Role.ADMIN, Role.ENGINEER, Role.AMO, Role.GENDARMERIE, Role.COMMUNE)


def _role(key: tuple[str, str]) -> Role:
    admitted = MATRIX.get(key, frozenset(Role))
    return next(role for role in PREFERENCE if role in admitted)


@pytest.mark.parametrize("key", sorted(set(OPERATIONS) - STREAMS), ids=" ".join)
def test_api_fuzz(key: tuple[str, str], tokens: dict[Role, str], base_url: str) -> None:
    headers = {"Authorization": f"Bearer {tokens[_role(key)]}"}
    calls = []

    @given(case=OPERATIONS[key].as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
        calls.append(response.status_code)

    fuzz()
    assert calls, f"{key}: no request was sent"
    method, path = key
    if method == "GET" and "{" not in path:
        # The lists answer something to a valid request: their bodies were checked, not
        # only their errors.
        assert any(200 <= code < 300 for code in calls), f"{key}: never a success: {calls}"


def test_fuzzing_covers_every_operation() -> None:
    """The fuzzer sees every route of the app: a route missing from the description would
    escape it."""
    described = set(OPERATIONS)
    app = create_app(make_settings("sqlite://"))
    served = {
        (method, path)
        for method, path, route in endpoints(app)
        if method != "WS" and getattr(route, "include_in_schema", False)
    }
    assert served == described
    assert len(described) >= 20
    assert CAMERAS  # the seeded cameras exist for the path parameters to hit
