"""The route table is the security policy: built from the app itself, so a new route that
forgets its guard, or a role list that drifts, fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from tests.vigie.conftest import ROLE_USER, Service
from vigie.api import create_app
from vigie.auth.roles import Role
from vigie.auth.tokens import issue_access_token

PUBLIC = {
    ("GET", "/healthz"),  # load balancers and container health checks; says ok or not, nothing else
    ("POST", "/api/v1/auth/token"),  # one cannot need a token to get one
    ("GET", "/api/v1/openapi.json"),  # the interface description, no data (see vigie.api)
}

ALL = frozenset(Role)
READERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE})
EDITORS = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})
# Supervision (README: Supervision data and API): engineers read it, AMO does not.
SUPERVISION_READERS = READERS
REPORT_READERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.COMMUNE})
OPERATOR = frozenset({Role.OPERATOR})

# The role-by-route matrix: every protected route must be here, with exactly these roles.
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/api/v1/auth/logout"): ALL,
    ("GET", "/api/v1/auth/me"): ALL,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("GET", "/api/v1/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
    ("GET", "/api/v1/cameras"): READERS,
    ("GET", "/api/v1/cameras/{camera_id}"): READERS,
    ("POST", "/api/v1/cameras"): EDITORS,
    ("PATCH", "/api/v1/cameras/{camera_id}"): EDITORS,
    ("DELETE", "/api/v1/cameras/{camera_id}"): EDITORS,
    ("GET", "/api/v1/status"): SUPERVISION_READERS,
    ("GET", "/api/v1/status/{camera_id}"): SUPERVISION_READERS,
    ("GET", "/api/v1/incidents"): SUPERVISION_READERS,
    ("GET", "/api/v1/incidents/{incident_id}"): SUPERVISION_READERS,
    ("POST", "/api/v1/incidents/{incident_id}/ack"): OPERATOR,
    ("GET", "/api/v1/availability"): REPORT_READERS,
    ("GET", "/api/v1/maintenance"): EDITORS,
    ("POST", "/api/v1/maintenance"): EDITORS,
    ("DELETE", "/api/v1/maintenance/{window_id}"): EDITORS,
    # Pictures: the two services that watch the public way (vigie.routes.pictures).
    ("POST", "/api/v1/cameras/{camera_id}/snapshot"): frozenset({Role.OPERATOR, Role.GENDARMERIE}),
    ("POST", "/api/v1/cameras/{camera_id}/reference/reset"): EDITORS,
    ("GET", "/metrics"): frozenset({Role.MONITORING, Role.ADMIN}),
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): ADMIN,
}


def routes(app: FastAPI) -> Iterator:
    """Every route the app serves, included routers flattened (FastAPI >= 0.165 nests them)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from iterate(app.routes) if iterate else app.routes


def endpoints(app: FastAPI) -> Iterator[tuple[str, str, object]]:
    """(method, path, route) for each HTTP method of each route; (WS, path, route) for sockets."""
    for route in routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIWebSocketRoute):
            yield "WS", route.path, route
            continue
        assert isinstance(original, (APIRoute, Route)), f"unknown kind of route {route!r}"
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield method, route.path, route


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def guards(dependant) -> set[frozenset[Role]]:
    """The role sets of every require_roles guard anywhere in a route's dependency tree."""
    found = set()
    roles = getattr(dependant.call, "__vigie_roles__", None)
    if roles is not None:
        found.add(roles)
    for sub in dependant.dependencies:
        found |= guards(sub)
    return found


@pytest.fixture
def production_app(settings) -> FastAPI:
    return create_app(settings)


def test_only_the_listed_routes_are_public(production_app: FastAPI) -> None:
    marked = set()
    for method, path, route in endpoints(production_app):
        endpoint = getattr(route, "endpoint", None)
        if getattr(endpoint, "__vigie_public__", False) or not isinstance(
            getattr(route, "original_route", route), (APIRoute, APIWebSocketRoute)
        ):
            marked.add((method, path))
    assert marked == PUBLIC


def test_every_other_route_declares_its_roles(production_app: FastAPI) -> None:
    declared = {}
    for method, path, route in endpoints(production_app):
        if (method, path) in PUBLIC:
            continue
        found = guards(route.dependant)
        assert len(found) == 1, f"{method} {path}: {len(found)} role guards, need exactly one"
        declared[(method, path)] = found.pop()
    assert declared == MATRIX


def test_every_protected_route_rejects_anonymous_callers(service: Service) -> None:
    checked = 0
    for method, path, _route in endpoints(service.client.app):
        if (method, path) in PUBLIC:
            continue
        if method == "WS":
            with (
                pytest.raises(WebSocketDisconnect),
                service.client.websocket_connect(concrete(path)) as socket,
            ):
                socket.receive_text()
            continue
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Bearer vigie_not-a-real-api-token-at-all"},
        ):
            response = service.client.request(method, concrete(path), headers=headers, json={})
            assert response.status_code == 401, f"{method} {path} with {headers}"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"] == "Bearer"
        checked += 1
    assert checked == len(MATRIX)


def test_tokens_signed_with_another_key_or_expired_are_rejected(service: Service) -> None:
    user_id = 1
    forged, _ = issue_access_token(
        "another-key-" * 4, user_id=user_id, token_version=0, lifetime=timedelta(minutes=5)
    )
    expired, _ = issue_access_token(
        service.client.app.state.signing_key,
        user_id=user_id,
        token_version=0,
        lifetime=timedelta(seconds=-1),
    )
    valid, _ = issue_access_token(
        service.client.app.state.signing_key,
        user_id=user_id,
        token_version=0,
        lifetime=timedelta(minutes=5),
    )
    for token, status in ((forged, 401), (expired, 401), (valid, 200)):
        response = service.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status


def test_role_matrix(service: Service) -> None:
    headers = {role: service.headers(username) for role, username in ROLE_USER.items()}
    for (method, path), allowed in MATRIX.items():
        for role in Role:
            response = service.client.request(
                method, concrete(path), headers=headers[role], json={}
            )
            if role in allowed:
                assert response.status_code not in (401, 403), f"{role} {method} {path}"
            else:
                assert response.status_code == 403, f"{role} {method} {path}"
                assert response.json()["detail"] == "your role may not do this"
