"""What a caller may see, as a dependency: the camera named in the path, if it is in scope.

Every router that takes a ``{camera_id}`` uses :data:`VisibleCamera`; a route that takes the
camera from its body calls :func:`visible_camera`. Outside the caller's scope, a camera answers
404 like one that does not exist. (It lives here rather than in ``vigie.deps`` because it needs the
authenticated caller, and ``vigie.auth.guards`` itself depends on ``vigie.deps``.)

Declare it after the route's role guard: dependencies resolve in the order of the parameters, so a
caller whose role may not use the route gets 403 before any look-up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.auth.guards import current_principal
from vigie.auth.principal import Principal, apply_scope
from vigie.deps import SessionDep
from vigie.models import Camera


def visible_camera(session: Session, principal: Principal, camera_id: str) -> Camera:
    """The camera if the caller may see it; 404 otherwise (outside scope looks like absent)."""
    statement = apply_scope(
        select(Camera).where(Camera.id == camera_id), principal, Camera.commune_code
    )
    camera = session.scalar(statement)
    if camera is None:
        raise HTTPException(404, f"no camera {camera_id}")
    return camera


def _camera_in_path(
    camera_id: Annotated[str, PathParam()],
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> Camera:
    return visible_camera(session, principal, camera_id)


VisibleCamera = Annotated[Camera, Depends(_camera_in_path)]
"""The path's ``{camera_id}``, looked up in the caller's scope (404 outside it)."""
