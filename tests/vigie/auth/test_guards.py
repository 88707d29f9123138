"""The guards as another package's router would use them (supervision receives them from vigie)."""

# No `from __future__ import annotations` here: FastAPI resolves string annotations in the
# module's globals, so a guard passed into a router factory (a closure variable) would be lost.
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers.service import Service, seed
from vigie import db
from vigie.api import create_app
from vigie.auth import Principal, Reason, Role, apply_scope, require_roles
from vigie.models import Commune


def build_router(viewer) -> APIRouter:
    """What a package that cannot import vigie does: take its guard as an argument."""
    router = APIRouter()

    @router.get("/api/v1/pictures/{commune}")
    def picture(principal: Annotated[Principal, Depends(viewer)], commune: str, reason: Reason):
        return {"who": principal.name, "reason": reason}

    return router


@pytest.fixture
def app_with_pictures(settings) -> Iterator[Service]:
    engine = db.make_engine(settings.db_url)
    seed(engine)
    app = create_app(settings)
    app.include_router(build_router(require_roles(Role.OPERATOR, Role.GENDARMERIE)))
    with TestClient(app) as client:
        yield Service(client=client, settings=settings, engine=engine)
    engine.dispose()


def test_a_router_built_elsewhere_is_guarded_and_wants_a_reason(app_with_pictures) -> None:
    client = app_with_pictures.client
    assert client.get("/api/v1/pictures/27056?reason=incident 118").status_code == 401
    operator = app_with_pictures.headers("operator")
    assert client.get("/api/v1/pictures/27056", headers=operator).status_code == 422
    assert client.get("/api/v1/pictures/27056?reason=hm", headers=operator).status_code == 422
    ok = client.get("/api/v1/pictures/27056?reason=incident 118", headers=operator)
    assert ok.json() == {"who": "operator", "reason": "incident 118"}
    admin = app_with_pictures.headers("admin")
    assert (
        client.get("/api/v1/pictures/27056?reason=incident 118", headers=admin).status_code == 403
    )


def test_apply_scope_filters_in_sql(service: Service) -> None:
    everywhere = Principal(kind="user", id=1, name="op", role=Role.OPERATOR)
    commune = Principal(
        kind="user", id=2, name="m", role=Role.COMMUNE, communes=frozenset({"27056"})
    )
    epci = Principal(
        kind="token", id=3, name="t", role=Role.COMMUNE, epcis=frozenset({"200040178"})
    )
    nothing = Principal(kind="user", id=4, name="n", role=Role.COMMUNE)
    statement = select(Commune.code).order_by(Commune.code)
    with db.session_scope(db.session_factory(service.engine)) as session:

        def codes(principal: Principal) -> list[str]:
            return list(session.scalars(apply_scope(statement, principal, Commune.code)))

        assert codes(everywhere) == ["27056", "27229", "27681"]
        assert codes(commune) == ["27056"]
        assert codes(epci) == ["27681"]
        assert codes(nothing) == []
    assert "WHERE" in str(apply_scope(statement, commune, Commune.code))


def test_require_roles_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()
