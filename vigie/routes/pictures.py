"""A camera's pictures: its last snapshot on demand (audited, with a reason), its reference reset.

Who sees a picture: the supervision centre's operators and the gendarmerie, the two services
that watch the public way under the prefectoral authorisation (CSI L252-2, L252-3); each view is
justified by a reason kept in the audit trail, like the legal register of consultations.
Communes do not see pictures through Vigie (they have their own local viewing), engineers and
AMO never need to, and an administrator configures the service without seeing what it films.
Resetting the reference (after a camera was re-aimed on purpose) is the centre's or an
administrator's act, audited; it shows no picture.
"""

from datetime import datetime
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from cameras.client import OnvifClient
from cameras.errors import CameraError
from cameras.models import CameraAddress
from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.auth.scope import VisibleCamera
from vigie.clock import utcnow
from vigie.credentials import KeyRing, camera_context
from vigie.deps import SessionDep, SettingsDep
from vigie.models import Camera
from vigie.plain_text import Line
from vigie.supervisor import pictures
from vigie.supervisor.runtime import fetch_snapshot

router = APIRouter(prefix="/api/v1/cameras", tags=["pictures"])

Viewer = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.GENDARMERIE))]
Resetter = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]

MIN_REASON = 10
"""Characters a reason needs: enough for "intervention 1234" or "réquisition OPJ", not "x"."""


class SnapshotRequest(BaseModel):
    reason: Line = Field(
        min_length=MIN_REASON,
        max_length=500,
        description="Why you view this picture (kept in the audit trail; required by law).",
    )
    fresh: bool = Field(
        default=False, description="Fetch a new snapshot from the camera instead of the last one."
    )

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < MIN_REASON or len({c.lower() for c in value if c.isalnum()}) < 4:
            raise ValueError(f"give a real reason (at least {MIN_REASON} characters, words)")
        return value


class ResetRequest(BaseModel):
    reason: Line = Field(default="", max_length=500, description="Why (kept in the audit trail).")


class ResetAnswer(BaseModel):
    camera_id: str
    forgotten_frames: int = Field(description="Snapshots the forgotten reference had learned.")


def _keys(settings) -> KeyRing:
    return KeyRing.from_settings(settings)  # CredentialsError (503) names the setting


async def _fetch_once(address: CameraAddress) -> bytes:
    async with OnvifClient() as onvif:
        return await fetch_snapshot(onvif.camera(address))


def _fresh(
    request: Request, session: Session, camera: Camera, keys: KeyRing
) -> tuple[bytes, datetime]:
    supervisor = getattr(request.app.state, "supervisor", None)
    try:
        if supervisor is not None and camera.id in supervisor:
            return anyio.from_thread.run(supervisor.fresh_snapshot, camera.id)
        password = (
            keys.decrypt(camera.password_encrypted, context=camera_context(camera.id))
            if camera.password_encrypted
            else ""
        )
        address = CameraAddress(camera.host, camera.port, camera.username, password)
        return anyio.from_thread.run(_fetch_once, address), utcnow()
    except CameraError as err:
        raise HTTPException(502, f"camera {camera.id}: no snapshot: {err}") from err


@router.post(
    "/{camera_id}/snapshot",
    summary="The camera's last snapshot, or a fresh one (audited, with a reason)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The JPEG as received."}},
)
def snapshot(
    body: SnapshotRequest,
    *,
    principal: Viewer,
    camera: VisibleCamera,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """The JPEG (``X-Snapshot-Time``: when it was taken); every view is in the audit trail."""
    camera_id = camera.id
    keys = _keys(settings)
    if body.fresh:
        jpeg, taken_at = _fresh(request, session, camera, keys)
        pictures.store_snapshot(session, camera_id, keys=keys, jpeg=jpeg, at=taken_at)
    else:
        found = pictures.last_snapshot(session, camera_id, keys=keys)
        if found is None:
            raise HTTPException(
                404, f'camera {camera_id}: no snapshot yet; ask for a fresh one ("fresh": true)'
            )
        jpeg, taken_at = found
    audit.record_by(
        session,
        principal,
        action="camera.snapshot",
        object_type="camera",
        object_id=camera_id,
        reason=body.reason,
        detail={"fresh": body.fresh, "taken_at": taken_at.isoformat(), "bytes": len(jpeg)},
    )
    return Response(
        jpeg,
        media_type="image/jpeg",
        headers={"X-Snapshot-Time": taken_at.isoformat(), "Cache-Control": "no-store"},
    )


@router.post(
    "/{camera_id}/reference/reset",
    response_model=ResetAnswer,
    summary="Forget the camera's picture reference; its next healthy snapshots become it",
)
def reset_reference(
    principal: Resetter,
    camera: VisibleCamera,
    session: SessionDep,
    body: ResetRequest | None = None,
) -> ResetAnswer:
    """After a camera was re-aimed or its lens changed on purpose (audited)."""
    camera_id = camera.id
    forgotten = pictures.reset_reference(session, camera_id)
    audit.record_by(
        session,
        principal,
        action="camera.reference_reset",
        object_type="camera",
        object_id=camera_id,
        reason=body.reason if body is not None else "",
        detail={"forgotten_frames": forgotten},
    )
    return ResetAnswer(camera_id=camera_id, forgotten_frames=forgotten)
