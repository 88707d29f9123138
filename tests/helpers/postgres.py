"""Throw-away PostgreSQL databases, for the tests and the benchmarks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

# The PostgreSQL server of the development machine and of CI (trust auth). Tests that need it
# fail loudly when it is down: `.ci/run` starts it; deselect with -m "not postgres" only on purpose.
POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """A throw-away database on the PostgreSQL server (its URL), dropped at the end.

    ``admin_url`` names the server and an account allowed to create databases; by default
    ``POSTGRES_ADMIN_URL`` (``VIGIE_TEST_POSTGRES_URL``).
    """
    admin_url = admin_url or POSTGRES_ADMIN_URL
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
