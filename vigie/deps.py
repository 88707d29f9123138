"""Request dependencies shared by the routers: the settings, a database session, the client, the
time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from vigie.clock import utcnow
from vigie.db import session_scope
from vigie.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns, rolled back on an error.

    Used with ``scope="function"``: the commit happens before the response is sent, so a failed
    commit is an error answer, never a success whose change (and audit row) was lost.
    """
    with session_scope(request.app.state.sessions) as session:
        yield session


def client_ip(request: Request) -> str:
    """The client's address: the TCP peer, or behind a proxy of ``VIGIE_TRUSTED_PROXIES`` the
    address it forwarded (``vigie.api`` sets it from X-Forwarded-For; nothing else reads it)."""
    return request.client.host if request.client else ""


def get_now() -> datetime:
    """The service clock (UTC), as a dependency so that a test can stop it at a chosen moment."""
    return utcnow()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClientIp = Annotated[str, Depends(client_ip)]
Now = Annotated[datetime, Depends(get_now)]

RowId = Annotated[int, Path(ge=1, le=2_147_483_647, description="A row's number.")]
"""An integer id in a path: bounded to the database's INTEGER, so an absurd number is a 422
instead of an overflow in the driver (found by the API fuzzing)."""
