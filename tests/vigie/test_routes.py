"""The route table is the security policy (tests/helpers/route_table.py): built from the app
itself, so a new route that forgets its guard, or a role list that drifts, fails here."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from tests.helpers.route_table import MATRIX, PUBLIC, STREAMS, endpoints
from tests.helpers.service import ROLE_USER, Service
from vigie import db
from vigie.api import create_app
from vigie.auth.roles import Role
from vigie.auth.tokens import issue_access_token
from vigie.models import User


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
                pytest.raises(WebSocketDisconnect) as refused,
                service.client.websocket_connect(concrete(path)) as socket,
            ):
                socket.receive_text()
            assert refused.value.code == 4401, f"WS {path}"
            checked += 1
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
    with db.session_scope(db.session_factory(service.engine)) as session:
        subject = session.scalar(select(User.subject).where(User.id == 1))
    forged, _ = issue_access_token(
        "another-key-" * 4, subject=subject, token_version=0, lifetime=timedelta(minutes=5)
    )
    expired, _ = issue_access_token(
        service.client.app.state.signing_key,
        subject=subject,
        token_version=0,
        lifetime=timedelta(seconds=-1),
    )
    valid, _ = issue_access_token(
        service.client.app.state.signing_key,
        subject=subject,
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
            if method == "WS":
                with service.client.websocket_connect(path, headers=headers[role]) as socket:
                    if role in allowed:
                        assert socket.receive_json()["type"] == "snapshot", f"{role} {path}"
                    else:
                        with pytest.raises(WebSocketDisconnect) as refused:
                            socket.receive_text()
                        assert refused.value.code == 4403, f"{role} {path}"
                continue
            if (method, path) in STREAMS and role in allowed:
                continue
            response = service.client.request(
                method, concrete(path), headers=headers[role], json={}
            )
            if role in allowed:
                assert response.status_code not in (401, 403), f"{role} {method} {path}"
            else:
                assert response.status_code == 403, f"{role} {method} {path}"
                assert response.json()["detail"] == "your role may not do this"
