"""``/api/v1/register``: the legal register. Prefectoral authorisations and the cameras they
cover, each camera's field of view (as map layers), the alerts of the register, and the
requisition query "which cameras saw this place, and in which state".

Engineers and administrators keep the register (every write audited); everyone who watches
cameras reads it within their scope. A requisition is a consultation the law wants justified:
it needs a reason and is audited with it and with the requester.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from shapely.geometry import mapping
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.auth.scope import VisibleCamera, visible_camera
from vigie.clock import as_utc
from vigie.deps import Now, RowId, SessionDep, SettingsDep
from vigie.models import Authorisation, Camera, CameraAuthorisation, CameraStatus, FieldOfView
from vigie.plain_text import Line, Lines
from vigie.register import alerts as register_alerts
from vigie.register import authorisations as register
from vigie.register import layers, requisitions

router = APIRouter(prefix="/api/v1/register", tags=["register"])

Reader = Annotated[
    Principal,
    Depends(
        require_roles(Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE)
    ),
]
Keeper = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.ENGINEER))]
Requester = Annotated[
    Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE))
]

EARLIEST = date(1995, 1, 21)
"""Loi 95-73, which created the authorisation of video-protection systems."""
LATEST = date(2100, 12, 31)
MAX_PERIOD = timedelta(days=31)
GPKG = "application/geopackage+sqlite3"
MIN_REASON = 10


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


# --- authorisations ----------------------------------------------------------------------------


class AuthorisationFields(BaseModel):
    purposes: Lines = Field(
        default="",
        max_length=4000,
        description="The purposes (finalités) the arrêté names, as written.",
    )
    retention_days: int = Field(
        ge=1,
        le=30,
        description="How long images are kept, in days: at most 30 (one month) by law, "
        "except when needed for proceedings.",
    )


class AuthorisationCreate(AuthorisationFields):
    number: Line = Field(min_length=1, max_length=100, description="The arrêté's number.")
    granted_on: date = Field(ge=EARLIEST, le=LATEST, description="Date of the arrêté.")
    ends_on: date | None = Field(
        default=None,
        ge=EARLIEST,
        le=LATEST,
        description="Last day in force; default: five years after granted_on.",
    )
    cameras: list[str] = Field(
        default_factory=list, max_length=1000, description="Cameras it covers from now on."
    )

    @model_validator(mode="after")
    def _ordered(self) -> AuthorisationCreate:
        if self.ends_on is not None and self.ends_on <= self.granted_on:
            raise ValueError("ends_on must come after granted_on")
        return self


class AuthorisationUpdate(BaseModel):
    number: Line | None = Field(default=None, min_length=1, max_length=100)
    granted_on: date | None = Field(default=None, ge=EARLIEST, le=LATEST)
    ends_on: date | None = Field(default=None, ge=EARLIEST, le=LATEST)
    purposes: Lines | None = Field(default=None, max_length=4000)
    retention_days: int | None = Field(default=None, ge=1, le=30)


class LinkView(BaseModel):
    camera_id: str
    attached_at: datetime
    attached_by: str
    detached_at: datetime | None
    detached_by: str | None


class AuthorisationView(BaseModel):
    id: int
    number: str
    granted_on: date
    ends_on: date
    purposes: str
    retention_days: int
    in_force: bool = Field(description="Whether today lies between granted_on and ends_on.")
    cameras: list[str] = Field(description="The cameras under it now (within your scope).")
    history: list[LinkView] = Field(description="Every link, past and present (your scope).")
    created_by: str
    created_at: datetime
    updated_at: datetime


class AttachRequest(BaseModel):
    since: AwareDatetime | None = Field(
        default=None,
        description="When the camera started filming under it (default: now); closes the "
        "link in force at that moment.",
    )


def _links(
    session: Session, principal: Principal, authorisation_ids: list[int]
) -> dict[int, list[CameraAuthorisation]]:
    statement = apply_scope(
        select(CameraAuthorisation)
        .join(Camera, Camera.id == CameraAuthorisation.camera_id)
        .where(CameraAuthorisation.authorisation_id.in_(authorisation_ids)),
        principal,
        Camera.commune_code,
    ).order_by(CameraAuthorisation.attached_at, CameraAuthorisation.id)
    found: dict[int, list[CameraAuthorisation]] = {i: [] for i in authorisation_ids}
    for link in session.scalars(statement):
        found[link.authorisation_id].append(link)
    return found


def _view(row: Authorisation, links: list[CameraAuthorisation], today: date) -> AuthorisationView:
    return AuthorisationView(
        id=row.id,
        number=row.number,
        granted_on=row.granted_on,
        ends_on=row.ends_on,
        purposes=row.purposes,
        retention_days=row.retention_days,
        in_force=register.in_force(row, today),
        cameras=sorted(link.camera_id for link in links if link.detached_at is None),
        history=[
            LinkView(
                camera_id=link.camera_id,
                attached_at=as_utc(link.attached_at),
                attached_by=link.attached_by,
                detached_at=as_utc(link.detached_at) if link.detached_at else None,
                detached_by=link.detached_by,
            )
            for link in links
        ],
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _visible_authorisation(
    session: Session, principal: Principal, authorisation_id: int
) -> Authorisation:
    """The authorisation; for a scoped caller only one covering (or having covered) one of its
    cameras. 404 otherwise, like one that does not exist."""
    statement = select(Authorisation).where(Authorisation.id == authorisation_id)
    if principal.restricted:
        statement = statement.where(_covers_scope(principal))
    row = session.scalar(statement)
    if row is None:
        raise HTTPException(404, f"no authorisation {authorisation_id}")
    return row


def _covers_scope(principal: Principal):
    return exists(
        apply_scope(
            select(CameraAuthorisation.id)
            .join(Camera, Camera.id == CameraAuthorisation.camera_id)
            .where(CameraAuthorisation.authorisation_id == Authorisation.id),
            principal,
            Camera.commune_code,
        )
    )


def _number_free(session: Session, number: str, keep: int | None = None) -> None:
    statement = select(Authorisation.id).where(Authorisation.number == number)
    if keep is not None:
        statement = statement.where(Authorisation.id != keep)
    if session.scalar(statement) is not None:
        raise HTTPException(409, f"authorisation {number} already exists")


@router.get("/authorisations", response_model=list[AuthorisationView])
def list_authorisations(
    principal: Reader,
    session: SessionDep,
    now: Now,
    camera: Annotated[str | None, Query(max_length=64, description="Only this camera's.")] = None,
) -> list[AuthorisationView]:
    """The authorisations, by end date; a scoped caller sees those of its cameras."""
    statement = select(Authorisation).order_by(Authorisation.ends_on, Authorisation.id)
    if principal.restricted:
        statement = statement.where(_covers_scope(principal))
    if camera is not None:
        statement = statement.where(
            exists(
                select(CameraAuthorisation.id).where(
                    CameraAuthorisation.authorisation_id == Authorisation.id,
                    CameraAuthorisation.camera_id == camera,
                )
            )
        )
    rows = list(session.scalars(statement))
    links = _links(session, principal, [row.id for row in rows])
    return [_view(row, links[row.id], now.date()) for row in rows]


@router.get("/authorisations/{authorisation_id}", response_model=AuthorisationView)
def read_authorisation(
    principal: Reader, session: SessionDep, now: Now, authorisation_id: RowId
) -> AuthorisationView:
    row = _visible_authorisation(session, principal, authorisation_id)
    return _view(row, _links(session, principal, [row.id])[row.id], now.date())


@router.post("/authorisations", response_model=AuthorisationView, status_code=201)
def create_authorisation(
    principal: Keeper, session: SessionDep, now: Now, body: AuthorisationCreate
) -> AuthorisationView:
    """Record an arrêté, optionally with the cameras it covers from now on (audited)."""
    number = body.number.strip()
    if not number:
        raise HTTPException(422, "number: give the arrêté's number")
    _number_free(session, number)
    cameras = [visible_camera(session, principal, camera_id) for camera_id in body.cameras]
    row = Authorisation(
        number=number,
        granted_on=body.granted_on,
        ends_on=body.ends_on or register.default_end(body.granted_on),
        purposes=body.purposes.strip(),
        retention_days=body.retention_days,
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as taken:  # created meanwhile by someone else; rolled back
        raise HTTPException(409, f"authorisation {number} already exists") from taken
    for camera in cameras:
        _attach(session, principal, row, camera.id, now)
    audit.record_by(
        session,
        principal,
        action="register.authorisation_create",
        object_type="authorisation",
        object_id=row.number,
        detail={
            "id": row.id,
            "granted_on": row.granted_on.isoformat(),
            "ends_on": row.ends_on.isoformat(),
            "retention_days": row.retention_days,
            "cameras": [camera.id for camera in cameras],
        },
    )
    return _view(row, _links(session, principal, [row.id])[row.id], now.date())


@router.patch("/authorisations/{authorisation_id}", response_model=AuthorisationView)
def update_authorisation(
    principal: Keeper,
    session: SessionDep,
    now: Now,
    authorisation_id: RowId,
    body: AuthorisationUpdate,
) -> AuthorisationView:
    """Correct or extend an arrêté's record (audited with the old and new values)."""
    row = _visible_authorisation(session, principal, authorisation_id)
    changes = body.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise HTTPException(422, "null is not a value here: leave the field out to keep it")
    if "number" in changes:
        changes["number"] = changes["number"].strip()
        if not changes["number"]:
            raise HTTPException(422, "number: give the arrêté's number")
        _number_free(session, changes["number"], keep=row.id)
    granted = changes.get("granted_on", row.granted_on)
    ends = changes.get("ends_on", row.ends_on)
    if ends <= granted:
        raise HTTPException(422, "ends_on must come after granted_on")
    before = {}
    for name, value in changes.items():
        old = getattr(row, name)
        if old != value:
            before[name] = old.isoformat() if isinstance(old, date) else old
            setattr(row, name, value)
    if before:
        row.updated_at = now
        audit.record_by(
            session,
            principal,
            action="register.authorisation_update",
            object_type="authorisation",
            object_id=row.number,
            detail={
                "id": row.id,
                "before": before,
                "after": {
                    name: getattr(row, name).isoformat()
                    if isinstance(getattr(row, name), date)
                    else getattr(row, name)
                    for name in before
                },
            },
        )
    return _view(row, _links(session, principal, [row.id])[row.id], now.date())


def _attach(
    session: Session, principal: Principal, row: Authorisation, camera_id: str, at: datetime
) -> None:
    try:
        left = register.attach(session, camera_id, row, actor=principal.actor, now=at)
    except ValueError as refused:
        raise HTTPException(409, str(refused)) from refused
    if left == row.id:
        return
    audit.record_by(
        session,
        principal,
        action="register.camera_attach",
        object_type="camera",
        object_id=camera_id,
        detail={"authorisation": row.number, "since": at.isoformat(), "left": left},
    )


@router.put(
    "/authorisations/{authorisation_id}/cameras/{camera_id}", response_model=AuthorisationView
)
def attach_camera(  # noqa: PLR0917 (FastAPI passes everything by keyword)
    principal: Keeper,
    session: SessionDep,
    now: Now,
    authorisation_id: RowId,
    camera: VisibleCamera,
    body: AttachRequest | None = None,
) -> AuthorisationView:
    """Put a camera under this authorisation; its previous one, if any, ends then (audited)."""
    row = _visible_authorisation(session, principal, authorisation_id)
    since = body.since if body is not None and body.since is not None else now
    if since > now:
        raise HTTPException(422, "since: a camera cannot be attached in the future")
    if since.year < EARLIEST.year:
        raise HTTPException(422, f"since: before {EARLIEST.isoformat()}")
    _attach(session, principal, row, camera.id, since)
    return _view(row, _links(session, principal, [row.id])[row.id], now.date())


@router.delete("/authorisations/{authorisation_id}/cameras/{camera_id}", status_code=204)
def detach_camera(
    principal: Keeper,
    session: SessionDep,
    now: Now,
    authorisation_id: RowId,
    camera: VisibleCamera,
) -> None:
    """End a camera's link to this authorisation (e.g. the camera is removed); audited."""
    row = _visible_authorisation(session, principal, authorisation_id)
    if not register.detach(session, camera.id, row.id, actor=principal.actor, now=now):
        raise HTTPException(404, f"camera {camera.id} is not under authorisation {row.number}")
    audit.record_by(
        session,
        principal,
        action="register.camera_detach",
        object_type="camera",
        object_id=camera.id,
        detail={"authorisation": row.number},
    )


# --- fields of view ----------------------------------------------------------------------------


class FovUpdate(BaseModel):
    direction: float = Field(ge=0, le=360, description="Degrees clockwise from true north.")
    angle: float = Field(
        ge=1, le=360, description="Opening in degrees; 360 for a dome seeing all around."
    )
    range_m: float = Field(ge=1, le=500, description="How far it sees usefully, in metres.")


class FovView(BaseModel):
    camera_id: str
    direction: float
    angle: float
    range_m: float
    updated_by: str
    updated_at: datetime
    geometry: dict[str, Any] = Field(description="The sector, a GeoJSON Polygon in WGS84.")


@router.put("/cameras/{camera_id}/fov", response_model=FovView)
def set_fov(
    principal: Keeper, session: SessionDep, now: Now, camera: VisibleCamera, body: FovUpdate
) -> FovView:
    """Set where the camera looks from its position (its latitude and longitude); audited."""
    fov = session.get(FieldOfView, camera.id)
    before = None
    if fov is None:
        fov = FieldOfView(camera_id=camera.id)
        session.add(fov)
    else:
        before = {"direction": fov.direction, "angle": fov.angle, "range_m": fov.range_m}
    fov.direction = body.direction % 360
    fov.angle, fov.range_m = body.angle, body.range_m
    fov.updated_by, fov.updated_at = principal.actor, now
    session.flush()
    audit.record_by(
        session,
        principal,
        action="register.fov_set",
        object_type="camera",
        object_id=camera.id,
        detail={
            "before": before,
            "after": {"direction": fov.direction, "angle": fov.angle, "range_m": fov.range_m},
        },
    )
    return FovView(
        camera_id=camera.id,
        direction=fov.direction,
        angle=fov.angle,
        range_m=fov.range_m,
        updated_by=fov.updated_by,
        updated_at=as_utc(fov.updated_at),
        geometry=mapping(layers.sector(camera, fov).polygon()),
    )


def _layer_rows(session: Session, principal: Principal, now: datetime):
    statement = apply_scope(
        select(Camera, FieldOfView, CameraStatus.state)
        .join(FieldOfView, FieldOfView.camera_id == Camera.id)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .order_by(Camera.id),
        principal,
        Camera.commune_code,
    )
    rows = session.execute(statement).all()
    links = register.current(session, [camera.id for camera, _, _ in rows])
    today = now.date()
    return [
        (
            camera,
            fov,
            layers.properties(
                camera,
                fov,
                links[camera.id][1] if camera.id in links else None,
                state or "unknown",
                today,
            ),
        )
        for camera, fov, state in rows
    ]


@router.get(
    "/fov.geojson",
    response_class=GeoJSONResponse,
    responses={200: {"description": "A GeoJSON FeatureCollection (WGS84)"}},
)
def fov_geojson(principal: Reader, session: SessionDep, now: Now) -> GeoJSONResponse:
    """The fields of view of the cameras you may see, with their authorisation and state."""
    return GeoJSONResponse(layers.feature_collection(_layer_rows(session, principal, now)))


@router.get(
    "/fov.gpkg",
    response_class=Response,
    responses={200: {"content": {GPKG: {}}, "description": "A GeoPackage layer (EPSG:4326)"}},
)
def fov_geopackage(principal: Reader, session: SessionDep, now: Now) -> Response:
    """The same layer as a GeoPackage, for QGIS."""
    return Response(
        layers.geopackage(_layer_rows(session, principal, now)),
        media_type=GPKG,
        headers={"Content-Disposition": 'attachment; filename="champs-de-vision.gpkg"'},
    )


# --- alerts ------------------------------------------------------------------------------------


class AlertView(BaseModel):
    code: str = Field(description="expiring, expired, not_yet_valid or missing.")
    label: str = Field(description="The code in French.")
    message: str = Field(description="One French sentence for the people who act on it.")
    camera_id: str
    camera_name: str
    commune: str
    filming: bool = Field(description="Seen UP or DEGRADED now or within 30 days.")
    authorisation_id: int | None = None
    authorisation_number: str | None = None
    ends_on: date | None = None
    days_left: int | None = None


class AlertsView(BaseModel):
    as_of: date
    months: int
    alerts: list[AlertView]


@router.get("/alerts", response_model=AlertsView)
def alerts(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    months: Annotated[
        int | None,
        Query(ge=1, le=24, description="Warn this many months before the end (default 4)."),
    ] = None,
) -> AlertsView:
    """Authorisations ending soon; cameras filming without a valid authorisation."""
    window = months or settings.register_alert_months
    cameras = apply_scope(select(Camera), principal, Camera.commune_code)
    found = register_alerts.alerts(session, cameras, now=now, months=window)
    return AlertsView(
        as_of=now.date(),
        months=window,
        alerts=[
            AlertView(
                code=alert.code,
                label=alert.label,
                message=alert.message,
                camera_id=alert.camera_id,
                camera_name=alert.camera_name,
                commune=alert.commune,
                filming=alert.filming,
                authorisation_id=alert.authorisation_id,
                authorisation_number=alert.authorisation_number,
                ends_on=alert.ends_on,
                days_left=alert.days_left,
            )
            for alert in found
        ],
    )


# --- requisitions ------------------------------------------------------------------------------


class RequisitionRequest(BaseModel):
    latitude: float | None = Field(default=None, ge=-90, le=90, description="WGS84.")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="WGS84.")
    address: Line | None = Field(
        default=None,
        max_length=300,
        description="Kept in the record only: Vigie has no geocoder, give the point too.",
    )
    start: AwareDatetime
    end: AwareDatetime
    reason: Line = Field(
        min_length=MIN_REASON,
        max_length=500,
        description="Why (kept in the audit trail; required by law), e.g. the procedure.",
    )
    reference: Line = Field(
        default="", max_length=100, description="The requisition's number, if any."
    )
    requester: Line = Field(
        default="", max_length=200, description="Who asks (OPJ, unit), if not the caller."
    )

    @model_validator(mode="after")
    def _checked(self) -> RequisitionRequest:
        if self.latitude is None or self.longitude is None:
            if self.address:
                raise ValueError(
                    "latitude and longitude are required: Vigie has no geocoder to place an "
                    "address; give the point (WGS84)"
                )
            raise ValueError("latitude and longitude are required (WGS84)")
        if self.end <= self.start:
            raise ValueError("end must come after start")
        if self.start.date() < EARLIEST:
            raise ValueError(f"start: no camera was authorised before {EARLIEST.isoformat()}")
        if self.end - self.start > MAX_PERIOD:
            raise ValueError("the period is longer than 31 days: ask for it in parts")
        if len({c.lower() for c in self.reason if c.isalnum()}) < 4:
            raise ValueError(f"reason: give a real reason (at least {MIN_REASON} characters)")
        return self


class IntervalView(BaseModel):
    state: str
    label: str
    start: datetime
    end: datetime
    seconds: float


class CoveringView(BaseModel):
    id: int
    number: str
    granted_on: date
    ends_on: date
    retention_days: int
    in_force: bool = Field(description="In force during some of the period.")


class RetentionView(BaseModel):
    code: str = Field(description="retained, partial, expired or unknown.")
    label: str
    retention_days: int | None
    erased_before: datetime | None = Field(
        default=None, description="Images older than this should be erased by now."
    )


class SeenView(BaseModel):
    camera_id: str
    name: str
    commune: str
    latitude: float
    longitude: float
    direction: float
    angle: float
    range_m: float
    authorisations: list[CoveringView]
    states: list[IntervalView] = Field(description="States over the period, unknown gaps included.")
    availability: dict[str, float | None] = Field(
        description="Seconds per state, ratio and observed share over the period."
    )
    retention: RetentionView


class RequisitionView(BaseModel):
    latitude: float
    longitude: float
    start: datetime
    end: datetime
    reason: str
    reference: str
    requester: str
    asked_by: str
    asked_at: datetime
    cameras: list[SeenView]
    unplaced: list[str] = Field(
        description="Cameras within 500 m of the point whose field of view is not recorded: "
        "they may have seen it; check them on site."
    )


@router.post("/requisitions", response_model=RequisitionView)
def requisition(
    principal: Requester, session: SessionDep, now: Now, body: RequisitionRequest
) -> RequisitionView:
    """Which cameras (within your scope) had the point in their field of view, under which
    authorisation, in which state over the period, and whether their images should still
    exist. Audited with the reason and the requester."""
    if body.end > now:
        raise HTTPException(422, "end: the period must be over (it is in the future)")
    assert body.latitude is not None and body.longitude is not None  # checked by the model
    cameras = apply_scope(
        select(Camera, FieldOfView).join(FieldOfView, FieldOfView.camera_id == Camera.id),
        principal,
        Camera.commune_code,
    )
    found = requisitions.search(
        session,
        cameras,
        latitude=body.latitude,
        longitude=body.longitude,
        start=body.start,
        end=body.end,
        now=now,
    )
    near_unknown = [
        camera.id
        for camera in requisitions.unplaced(
            session,
            apply_scope(select(Camera), principal, Camera.commune_code),
            body.latitude,
            body.longitude,
        )
    ]
    audit.record_by(
        session,
        principal,
        action="register.requisition",
        object_type="requisition",
        object_id=body.reference,
        reason=body.reason,
        detail={
            "requester": body.requester,
            "point": [body.latitude, body.longitude],
            "address": body.address,
            "start": body.start.isoformat(),
            "end": body.end.isoformat(),
            "cameras": [seen.camera.id for seen in found],
            "unplaced": near_unknown,
        },
    )
    return RequisitionView(
        latitude=body.latitude,
        longitude=body.longitude,
        start=body.start,
        end=body.end,
        reason=body.reason,
        reference=body.reference,
        requester=body.requester,
        asked_by=principal.actor,
        asked_at=now,
        cameras=[
            SeenView(
                camera_id=seen.camera.id,
                name=seen.camera.name,
                commune=seen.camera.commune_code,
                latitude=seen.camera.latitude,
                longitude=seen.camera.longitude,
                direction=seen.fov.direction,
                angle=seen.fov.angle,
                range_m=seen.fov.range_m,
                authorisations=[CoveringView(**item) for item in seen.authorisations],
                states=[IntervalView(**item) for item in seen.intervals],
                availability=seen.availability,
                retention=RetentionView(**seen.retention),
            )
            for seen in found
        ],
        unplaced=near_unknown,
    )
