"""Throw-away PostgreSQL databases, for the tests and the benchmarks.

Most tests want a database at the current schema; migrating an empty one (every revision) costs
about a second, copying a migrated template a tenth of that. So each test process
migrates one template (:func:`migrated_template`) and copies it for every test that asks for
:func:`postgres_database` with it; the migration tests still start from empty databases.
Dropping a database waits for the server to remove its files: it is done by one background
thread, so a test does not wait for the previous one's drop.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

# The PostgreSQL server of the development machine and of CI (trust auth). Tests that need it
# fail loudly when it is down: `.ci/run` starts it; deselect with -m "not postgres" only on purpose.
POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

log = logging.getLogger(__name__)
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-database")
"""Drops the test databases one after the other, behind the tests; its queue is emptied before
the process exits (``concurrent.futures`` joins its workers at exit)."""


@functools.cache
def _admin(admin_url: str) -> Engine:
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=2)


def _drop(admin_url: str, name: str) -> None:
    try:
        with _admin(admin_url).connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception:  # a drop that fails leaves a database behind, never fails a test
        log.exception("could not drop the test database %s", name)


@contextmanager
def postgres_database(
    admin_url: str | None = None, *, template: str | None = None
) -> Iterator[str]:
    """A throw-away database on the PostgreSQL server (its URL), dropped after.

    ``admin_url`` names the server and an account allowed to create databases; by default
    ``POSTGRES_ADMIN_URL`` (``VIGIE_TEST_POSTGRES_URL``). ``template``: a database to copy
    (:func:`migrated_template`), else the database is empty.
    """
    admin_url = admin_url or POSTGRES_ADMIN_URL
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with _admin(admin_url).connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _dropper.submit(_drop, admin_url, name)


@functools.cache
def migrated_template(admin_url: str | None = None) -> str:
    """The name of this process's database at the current schema (migrated once), to copy.

    Nobody stays connected to it (PostgreSQL copies only a database no one uses); it is dropped
    when the process exits.
    """
    from vigie import db

    admin_url = admin_url or POSTGRES_ADMIN_URL
    name = f"vigie_template_{uuid.uuid4().hex[:12]}"
    with _admin(admin_url).connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    atexit.register(_drop, admin_url, name)
    engine = db.make_engine(
        make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    )
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    return name
