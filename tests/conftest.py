"""Fixtures shared by every test package: real databases, the Eure sample."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from vigie import db

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "gis_data" / "eure" / "eure.gpkg"

# The PostgreSQL server of the development machine and of CI (trust auth). Tests that need it
# fail loudly when it is down: `.ci/run` starts it; deselect with -m "not postgres" only on purpose.
POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vigie.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server (its URL), dropped at the end."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server, dropped after the test."""
    with postgres_database() as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Eure sample planned once per session (a few seconds); copy it before editing it."""
    from planning.export import write_plan
    from planning.parameters import PlanParameters
    from planning.pipeline import plan_layers
    from planning.validate import validate_path

    report = validate_path(SAMPLE)
    plan, _ = plan_layers(report.layers, PlanParameters(), bound=False)
    out = tmp_path_factory.mktemp("sample-plan")
    write_plan(
        plan,
        out,
        communes=report.layers["communes"],
        masts=report.layers["masts"],
        power_points=report.layers["power_points"],
        source=str(SAMPLE),
    )
    return out
