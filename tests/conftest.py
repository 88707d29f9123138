"""Fixtures shared by every test package: real databases, the Eure sample; and, before any
test runs, the check that the machine has the system packages the tests use."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.helpers.paths import REPO, SAMPLE
from tests.helpers.postgres import migrated_template, postgres_database
from vigie import db


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, in one line, when a system package is missing: a test that needs chromium,
    QGIS, LibreOffice, GStreamer or PostgreSQL would otherwise fail with a raw traceback."""
    check = subprocess.run(
        [str(REPO / "scripts" / "system-packages"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        pytest.exit(check.stderr.strip() or "scripts/system-packages --check failed", returncode=4)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the current schema, migrated once per test process, to copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "vigie.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite database at the current schema (a copy of the migrated template)."""
    shutil.copyfile(sqlite_template, tmp_path / "vigie.db")
    return f"sqlite:///{tmp_path / 'vigie.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database at the current schema, dropped after the test."""
    with postgres_database(template=migrated_template()) as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database test runs on SQLite and on PostgreSQL, on a database at the current
    schema (copied from a template migrated once: migrating costs a second a test)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema), on SQLite and on PostgreSQL: for the migrations' tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(empty_database_url)
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
