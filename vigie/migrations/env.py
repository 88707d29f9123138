"""Alembic environment: runs on the engine Vigie hands over (never an ini file's URL)."""

from alembic import context

from vigie.models import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    context.run_migrations()
