"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from vigie import db
from vigie.models import Base

SECURITY_TABLES = {"users", "refresh_tokens", "api_tokens", "audit_events", "audit_head", "cameras"}


def test_models_and_migrations_agree(engine: Engine) -> None:
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_security_migration_goes_down_and_up_again(engine: Engine) -> None:
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= SECURITY_TABLES
    db.downgrade(engine, "0001")
    assert not SECURITY_TABLES & set(inspect(engine).get_table_names())
    assert "communes" in inspect(engine).get_table_names()
    assert db.upgrade(engine) == db.head_revision()
