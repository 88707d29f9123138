"""The service under test: settings, a migrated database with communes and users of every role,
and the client of an app served over it (the fixtures that build them: tests/vigie/conftest.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from vigie import db
from vigie.api import create_app
from vigie.auth.passwords import hash_password
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.credentials import generate_key
from vigie.models import Commune, Epci, User
from vigie.settings import Settings, generate_secret_key, load_settings

PASSWORD = "correct horse battery staple"

# Two EPCIs of the Eure; 27056 and 27229 in the first, 27681 in the second.
EPCI_A, EPCI_B = "200070753", "200040178"
COMMUNES = {"27056": EPCI_A, "27229": EPCI_A, "27681": EPCI_B}

# username -> (role, communes, epcis)
USERS: dict[str, tuple[Role, list[str], list[str]]] = {
    "admin": (Role.ADMIN, [], []),
    "engineer": (Role.ENGINEER, [], []),
    "amo": (Role.AMO, [], []),
    "operator": (Role.OPERATOR, [], []),
    "gendarme": (Role.GENDARMERIE, [], []),
    "mairie-27056": (Role.COMMUNE, ["27056"], []),
    "epci-b": (Role.COMMUNE, [], [EPCI_B]),
    "prometheus": (Role.MONITORING, [], []),
}
ROLE_USER = {
    Role.ADMIN: "admin",
    Role.ENGINEER: "engineer",
    Role.AMO: "amo",
    Role.OPERATOR: "operator",
    Role.GENDARMERIE: "gendarme",
    Role.COMMUNE: "mairie-27056",
    Role.MONITORING: "prometheus",
}


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "environment": "production",
        "secret_key": generate_secret_key(),
        "credentials_keys": generate_key(),
        "supervise": False,  # the API tests seed their own supervision data
        # the webhook tests' receivers listen on this machine, which webhooks may not reach
        # unless allowed (tests/security/test_webhook_targets.py checks the refusal)
        "webhook_allowed_networks": "127.0.0.0/8",
    }
    values.update(overrides)
    return load_settings(**values)


@functools.cache
def password_hash() -> str:
    """One real argon2id hash of PASSWORD, shared by the seeded users (hashing costs ~0.1 s)."""
    return hash_password(PASSWORD)


def seed(engine: Engine) -> None:
    """Schema at head, three communes in two EPCIs, one user per entry of USERS."""
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        session.add_all([Epci(siren=EPCI_A, nom="EPCI A"), Epci(siren=EPCI_B, nom="EPCI B")])
        session.flush()
        for code, siren in COMMUNES.items():
            session.add(
                Commune(code=code, nom=f"Commune {code}", population=1000, epci_siren=siren)
            )
        session.flush()
        for username, (role, communes, epcis) in USERS.items():
            session.add(
                User(
                    username=username,
                    role=role.value,
                    password_hash=password_hash(),
                    scope_communes=communes,
                    scope_epcis=epcis,
                    habilitation_until=date(2099, 12, 31),
                    created_at=utcnow(),
                )
            )


def bearer_token(base_url: str, username: str) -> str:
    """An access token for a seeded user from a server running over real HTTP."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass
class Service:
    client: TestClient
    settings: Settings
    engine: Engine

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )

    def headers(self, username: str) -> dict[str, str]:
        response = self.login(username)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def running_service(
    settings: Settings, *, prepare: Callable[[Engine], None] | None = None
) -> Iterator[Service]:
    """The app on ``settings`` behind a test client, over the database of :func:`seed` (and
    what ``prepare`` adds to it before the app starts); the engine disposed of after."""
    engine = db.make_engine(settings.db_url)
    seed(engine)
    if prepare is not None:
        prepare(engine)
    try:
        with TestClient(create_app(settings)) as client:
            yield Service(client=client, settings=settings, engine=engine)
    finally:
        engine.dispose()
