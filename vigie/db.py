"""Engine, sessions and migrations. SQLite by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigie.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def _safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


POOL_SIZE, POOL_OVERFLOW = 20, 20
"""Connections kept, and opened beyond them at peaks: 40 in all, the size of the thread pool
FastAPI runs blocking routes and dependencies in. With fewer, 40 requests waiting for a
connection hold every thread, and the requests holding the connections cannot get a thread to
commit and give them back: the service hangs until the pool's timeout (seen at 100 concurrent
``GET /status``)."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; for SQLite, creates the folder and turns foreign keys on."""
    try:
        parsed = make_url(url)
    except Exception as err:  # sqlalchemy raises ArgumentError, ValueError...
        raise DatabaseError(f"invalid database URL {url!r}: {err}") from err
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        pool = {}
        if database and database != ":memory:":
            pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        engine = create_engine(url, echo=echo, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers and one writer
    # work at the same time, which the service needs.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine, credentials_keys: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", _safe_url(str(engine.url)))
    config.attributes["engine"] = engine
    # For migrations that re-encrypt stored secrets (0006); never written anywhere.
    config.attributes["credentials_keys"] = credentials_keys
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None when it was never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as err:
        raise DatabaseError(
            f"cannot read the database {_safe_url(str(engine.url))}: {err.__class__.__name__}: "
            f"{err.orig if hasattr(err, 'orig') else err}"
        ) from err


MIGRATION_LOCK = 0x76_69_67_69_65_5F_6D_67
"""The PostgreSQL advisory lock key ("vigie_mg" in ASCII, a signed 64-bit value) held while
migrating, so that several ``vigie serve --migrate`` nodes starting at once take turns."""


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migration lock on PostgreSQL (nothing on SQLite, where one file has one host).

    A session-level advisory lock on a connection of its own: Alembic's transaction commits
    under it, and a second node waits here, then finds the schema at head and does nothing.
    Without it, two nodes create the same tables and one fails (or they deadlock).
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()  # the lock is the session's: it outlives the transaction
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


def upgrade(
    engine: Engine, revision: str = "head", *, credentials_keys: str | None = None
) -> str | None:
    """Migrate the database to ``revision``; returns the revision reached.

    ``credentials_keys`` (VIGIE_CREDENTIALS_KEYS) is needed when a migration re-encrypts stored
    camera passwords (0006 binds them to their cameras' addresses). On PostgreSQL the upgrade
    runs under :func:`migration_lock`, so nodes started together migrate one after the other.
    """
    try:
        with migration_lock(engine):
            command.upgrade(_alembic_config(engine, credentials_keys), revision)
    except SQLAlchemyError as err:
        raise DatabaseError(
            f"migration of {_safe_url(str(engine.url))} failed: {err.__class__.__name__}: "
            f"{err.orig if hasattr(err, 'orig') else err}"
        ) from err
    return current_revision(engine)


def downgrade(engine: Engine, revision: str, *, credentials_keys: str | None = None) -> str | None:
    with migration_lock(engine):
        command.downgrade(_alembic_config(engine, credentials_keys), revision)
    return current_revision(engine)


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database that is behind the code: tell the user what to run."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise DatabaseError(
            f"the database {_safe_url(str(engine.url))} is at revision {current or 'none'}, "
            f"the code needs {head}: run `vigie db upgrade`"
        )
