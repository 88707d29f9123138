"""The SQL statements a piece of code runs, as the database receives them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements(engine: Engine | type[Engine] = Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` meanwhile (on every engine by default: the one an
    app under test made for itself too), whitespace collapsed."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
