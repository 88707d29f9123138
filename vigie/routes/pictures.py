"""A camera's pictures: its last snapshot on demand (audited, with a reason), its reference reset.

Who sees a picture: the supervision centre's operators and the gendarmerie, the two services
that watch the public way under the prefectoral authorisation (CSI L252-2, L252-3); each view is
justified by a reason kept in the audit trail, like the legal register of consultations.
Communes do not see pictures through Vigie (they have their own local viewing), engineers and
AMO never need to, and an administrator configures the service without seeing what it films.
Resetting the reference (after a camera was re-aimed on purpose) is the centre's or an
administrator's act, audited; it shows no picture.

A fresh snapshot uses the camera's password only at the address it was stored for
(``vigie.credentials.open_camera_password``). When it fails, the gendarmerie, who may not see how
a camera is reached, is told what happened without the address; the operator gets the camera's
own message (``host:port: operation: ...``), and the log always has it.
"""

import logging
from datetime import datetime
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, field_validator

from cameras.client import OnvifClient
from cameras.errors import (
    CameraAuthFailed,
    CameraBasicRefused,
    CameraError,
    CameraProtocolError,
    CameraUnreachable,
)
from cameras.models import CameraAddress
from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import CONFIGURATION_READERS, Role
from vigie.auth.scope import VisibleCamera
from vigie.clock import utcnow
from vigie.credentials import KeyRing, open_camera_password
from vigie.deps import SessionDep, SettingsDep
from vigie.models import Camera
from vigie.plain_text import Line
from vigie.supervisor import pictures
from vigie.supervisor.runtime import fetch_snapshot

log = logging.getLogger(__name__)

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
    forgotten_frames: int = Field(
        description="Snapshots the forgotten references (day and night together) had learned."
    )


def _keys(settings) -> KeyRing:
    return KeyRing.from_settings(settings)  # CredentialsError (503) names the setting


async def _fetch_once(address: CameraAddress) -> bytes:
    async with OnvifClient() as onvif:
        return await fetch_snapshot(onvif.camera(address))


def _without_address(err: CameraError) -> str:
    """What went wrong, for a role that may not see how the camera is reached."""
    if isinstance(err, CameraBasicRefused):
        return (
            "the camera asks for HTTP Basic authentication, which is not allowed for it: "
            "credentials not sent"
        )
    if isinstance(err, CameraAuthFailed):
        return "the camera refused its credentials"
    if isinstance(err, CameraUnreachable):
        return "the camera did not answer"
    if isinstance(err, CameraProtocolError):
        return "the camera's answer was not usable"
    return "the camera is not available"


def _same_address(running: CameraAddress | None, camera: Camera) -> bool:
    """Whether the supervisor reaches the camera where the inventory says it is now."""
    return running is not None and (
        running.host,
        running.port,
        running.basic_auth,
        running.tls,
        running.tls_pin,
    ) == (
        camera.host,
        camera.port,
        bool(camera.basic_auth),
        bool(camera.tls),
        camera.tls_fingerprint,
    )


def _fresh(
    request: Request, principal: Principal, camera: Camera, keys: KeyRing
) -> tuple[bytes, datetime]:
    supervisor = getattr(request.app.state, "supervisor", None)
    try:
        if supervisor is not None and _same_address(supervisor.address_of(camera.id), camera):
            return anyio.from_thread.run(supervisor.fresh_snapshot, camera.id)
        password = open_camera_password(keys, camera) if camera.password_encrypted else ""
        address = CameraAddress(
            camera.host,
            camera.port,
            camera.username,
            password,
            basic_auth=bool(camera.basic_auth),
            tls=bool(camera.tls),
            tls_pin=camera.tls_fingerprint,
        )
        if address.tls and address.tls_pin is None:
            # never pin from here: the supervisor pins on first use and audits it
            raise CameraProtocolError(
                f"{camera.host}:{camera.port}: its TLS certificate is not pinned yet"
            )
        return anyio.from_thread.run(_fetch_once, address), utcnow()
    except CameraError as err:
        log.warning("camera %s: fresh snapshot for %s failed: %s", camera.id, principal.actor, err)
        said = str(err) if principal.role in CONFIGURATION_READERS else _without_address(err)
        raise HTTPException(502, f"camera {camera.id}: no snapshot: {said}") from err


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
        jpeg, taken_at = _fresh(request, principal, camera, keys)
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
    summary="Forget the camera's day and night picture references; its next healthy snapshots "
    "become them",
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
