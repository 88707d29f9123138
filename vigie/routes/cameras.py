"""``/api/v1/cameras``: the centre's camera inventory, scoped in SQL, credentials write-only.

Who sees what: admin, engineer and operator see how a camera is reached (host, port, user
name, whether a password is stored, whether HTTP Basic is allowed); gendarmerie and commune
users see where it is and what it is; nobody ever reads a password back. A camera outside the
caller's scope answers 404 like a camera that does not exist, so ids cannot be probed.

A password is stored for the camera's address (``vigie.credentials.camera_context``): changing
the host or port of a camera that has one requires giving the password again in the same
request (422 otherwise), so that it is never sent to an address it was not given for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope, scope_condition
from vigie.auth.roles import CONFIGURATION_READERS, Role
from vigie.auth.scope import VisibleCamera
from vigie.clock import as_utc, utcnow
from vigie.credentials import KeyRing, seal_camera_password
from vigie.deps import SessionDep, SettingsDep
from vigie.models import Camera, Commune, Mast

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

Reader = Annotated[
    Principal,
    Depends(
        require_roles(Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE)
    ),
]
Editor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Topologist = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.ENGINEER))]

CAMERA_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
BASIC_AUTH = (
    "Answer the camera's HTTP Basic challenge (the password goes in clear): only for a camera "
    "that offers nothing better, on a network you trust. Off: Digest and WS-Security only."
)
TLS = (
    "Talk HTTPS to the camera: its certificate (self-signed, as cameras' are) is pinned on "
    "first use, and any other one is refused before anything is sent (a security incident)."
)
SHA256 = r"^[0-9a-f]{64}$"


class Access(BaseModel):
    """How the centre reaches the camera; the password is never returned."""

    host: str
    port: int
    username: str
    has_password: bool
    basic_auth: bool
    tls: bool
    tls_fingerprint: str | None = Field(
        default=None,
        description="SHA-256 (hex) of the pinned certificate; none yet: pinned "
        "on the next contact.",
    )


class CameraView(BaseModel):
    id: str
    name: str
    commune: str
    latitude: float
    longitude: float
    model: str
    mast_id: str | None = Field(default=None, description="The mast holding it (correlation).")
    access: Access | None = Field(
        default=None, description="Only for admin, engineer and operator."
    )
    updated_at: datetime


class CameraCreate(BaseModel):
    id: str = Field(pattern=CAMERA_ID)
    name: str = Field(min_length=1, max_length=200)
    commune: str = Field(pattern=r"^[0-9][0-9AB][0-9]{3}$", description="INSEE code")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=80, ge=1, le=65535)
    username: str = Field(default="", max_length=100)
    password: SecretStr | None = Field(
        default=None, description="Write-only; stored encrypted, for this host and port only."
    )
    model: str = Field(default="", max_length=100)
    basic_auth: bool = Field(default=False, description=BASIC_AUTH)
    tls: bool = Field(default=False, description=TLS)


class CameraUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    commune: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]{3}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    host: str | None = Field(default=None, min_length=1, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=100)
    password: SecretStr | None = Field(
        default=None,
        description="Write-only. Required with a new host or port when a password is stored: "
        "a password is only ever sent to the address it was given for.",
    )
    model: str | None = Field(default=None, max_length=100)
    basic_auth: bool | None = Field(default=None, description=BASIC_AUTH)
    tls: bool | None = Field(default=None, description=TLS)


class PathElement(BaseModel):
    kind: str = Field(
        pattern=r"^(splice|PM|NRO|PBO)$", description="A branch closure or the FttH node."
    )
    id: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=120, description="In French: « manchon S12 ».")
    lon: float | None = Field(default=None, ge=-180, le=180, description="WGS84, for the map.")
    lat: float | None = Field(default=None, ge=-90, le=90, description="WGS84, for the map.")


class MastAssignment(BaseModel):
    mast_id: str | None = Field(
        pattern=CAMERA_ID, description="The camera's mast; null: none (no correlation)."
    )
    path: list[PathElement] | None = Field(
        default=None,
        max_length=50,
        description="The mast's closures from the mast, then its FttH node; given: replaces "
        "the mast's path, for all its cameras.",
    )


class CertificateTrust(BaseModel):
    sha256: str = Field(
        pattern=SHA256,
        description="The fingerprint to pin (lower-case hex): the one the camera presents "
        "now, as the audit event camera.certificate_changed gives it, once checked on site.",
    )


def _view(camera: Camera, principal: Principal) -> CameraView:
    access = None
    if principal.role in CONFIGURATION_READERS:
        access = Access(
            host=camera.host,
            port=camera.port,
            username=camera.username,
            has_password=bool(camera.password_encrypted),
            basic_auth=bool(camera.basic_auth),
            tls=bool(camera.tls),
            tls_fingerprint=camera.tls_fingerprint,
        )
    return CameraView(
        id=camera.id,
        name=camera.name,
        commune=camera.commune_code,
        latitude=camera.latitude,
        longitude=camera.longitude,
        model=camera.model,
        mast_id=camera.mast_id,
        access=access,
        updated_at=as_utc(camera.updated_at),
    )


def _check_commune(session: Session, principal: Principal, code: str) -> None:
    """The commune must exist and, for a scoped caller, be one of theirs."""
    statement = select(Commune.code).where(Commune.code == code)
    if principal.restricted:
        statement = statement.where(scope_condition(principal, Commune.code))
    if session.scalar(statement) is None:
        raise HTTPException(
            422, f"commune {code}: unknown or outside your scope (run `vigie db load-communes`?)"
        )


@router.get("", response_model=list[CameraView], response_model_exclude_none=True)
def list_cameras(principal: Reader, session: SessionDep) -> list[CameraView]:
    """The cameras the caller may see, by id."""
    statement = apply_scope(select(Camera).order_by(Camera.id), principal, Camera.commune_code)
    return [_view(camera, principal) for camera in session.scalars(statement)]


@router.get("/{camera_id}", response_model=CameraView, response_model_exclude_none=True)
def read_camera(principal: Reader, camera: VisibleCamera) -> CameraView:
    return _view(camera, principal)


@router.post("", response_model=CameraView, status_code=201, response_model_exclude_none=True)
def create_camera(
    principal: Editor, session: SessionDep, settings: SettingsDep, body: CameraCreate
) -> CameraView:
    _check_commune(session, principal, body.commune)
    if session.get(Camera, body.id) is not None:
        raise HTTPException(409, f"camera {body.id} already exists")
    now = utcnow()
    camera = Camera(
        id=body.id,
        name=body.name,
        commune_code=body.commune,
        latitude=body.latitude,
        longitude=body.longitude,
        host=body.host,
        port=body.port,
        username=body.username,
        password_encrypted="",
        model=body.model,
        basic_auth=body.basic_auth,
        tls=body.tls,
        created_at=now,
        updated_at=now,
    )
    if body.password is not None:
        camera.password_encrypted = seal_camera_password(
            KeyRing.from_settings(settings), camera, body.password.get_secret_value()
        )
    session.add(camera)
    session.flush()
    audit.record_by(
        session,
        principal,
        action="camera.create",
        object_type="camera",
        object_id=camera.id,
        detail={"commune": camera.commune_code, "host": camera.host},
    )
    return _view(camera, principal)


@router.patch("/{camera_id}", response_model=CameraView, response_model_exclude_none=True)
def update_camera(
    principal: Editor,
    session: SessionDep,
    camera: VisibleCamera,
    settings: SettingsDep,
    body: CameraUpdate,
) -> CameraView:
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    moved = {
        name
        for name in ("host", "port")
        if name in changes and changes[name] != getattr(camera, name)
    }
    if moved and camera.password_encrypted and "password" not in body.model_fields_set:
        raise HTTPException(
            422,
            f"camera {camera.id}: a new {' and '.join(sorted(moved))} needs the camera's password "
            'again in the same request ("password"; null to store none): a password is only '
            "ever sent to the address it was given for",
        )
    if "commune" in changes:
        _check_commune(session, principal, changes["commune"])
        changes["commune_code"] = changes.pop("commune")
    for name, value in changes.items():
        if value is None:
            raise HTTPException(422, f"{name}: cannot be null")
        if name == "tls" and value != camera.tls:
            camera.tls_fingerprint = None  # pinned again on the next contact
        setattr(camera, name, value)
    changed = sorted(changes)
    if "password" in body.model_fields_set:
        password = body.password.get_secret_value() if body.password else ""
        camera.password_encrypted = (
            seal_camera_password(KeyRing.from_settings(settings), camera, password)
            if password
            else ""
        )
        changed.append("password")
    camera.updated_at = utcnow()
    audit.record_by(
        session,
        principal,
        action="camera.update",
        object_type="camera",
        object_id=camera.id,
        detail={"fields": changed},
    )
    return _view(camera, principal)


@router.delete("/{camera_id}", status_code=204)
def delete_camera(principal: Editor, camera: VisibleCamera, session: SessionDep) -> None:
    camera_id = camera.id
    session.delete(camera)
    audit.record_by(
        session,
        principal,
        action="camera.delete",
        object_type="camera",
        object_id=camera_id,
    )


@router.put("/{camera_id}/certificate", response_model=CameraView, response_model_exclude_none=True)
def trust_certificate(
    principal: Admin, session: SessionDep, camera: VisibleCamera, body: CertificateTrust
) -> CameraView:
    """Pin another certificate for a TLS camera (re-keyed, or replaced): administrators only,
    audited with the one it replaces. The supervisor talks to the camera again once the
    certificate it presents is this one."""
    if not camera.tls:
        raise HTTPException(422, f"camera {camera.id}: not a TLS camera (set tls first)")
    previous = camera.tls_fingerprint
    camera.tls_fingerprint = body.sha256
    camera.updated_at = utcnow()
    audit.record_by(
        session,
        principal,
        action="camera.certificate_trusted",
        object_type="camera",
        object_id=camera.id,
        detail={"sha256": body.sha256, "replaced_sha256": previous},
    )
    return _view(camera, principal)


@router.put("/{camera_id}/mast", response_model=CameraView, response_model_exclude_none=True)
def assign_mast(
    principal: Topologist, session: SessionDep, camera: VisibleCamera, body: MastAssignment
) -> CameraView:
    """Put the camera on a mast, and optionally set the mast's path in the planned network
    (what correlation names a cut by); audited (``camera.mast``)."""
    previous = camera.mast_id
    camera.mast_id = body.mast_id
    camera.updated_at = utcnow()
    if body.mast_id is not None and body.path is not None:
        mast = session.get(Mast, body.mast_id)
        if mast is None:
            mast = Mast(id=body.mast_id)
            session.add(mast)
        mast.commune = camera.commune_code
        mast.path = [element.model_dump(exclude_none=True) for element in body.path]
    session.flush()
    audit.record_by(
        session,
        principal,
        action="camera.mast",
        object_type="camera",
        object_id=camera.id,
        detail={
            "mast": body.mast_id,
            "previous": previous,
            **({} if body.path is None else {"path": [e.id for e in body.path]}),
        },
    )
    return _view(camera, principal)
