"""Database tables. Schemas exposed by the API live elsewhere; these are storage only."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so Alembic migrations are reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Epci(Base):
    """An intercommunality (EPCI), identified by its SIREN: the unit of financing and of scopes."""

    __tablename__ = "epcis"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    communes: Mapped[list[Commune]] = relationship(back_populates="epci")


class Commune(Base):
    """A current commune, identified by its INSEE code: owner of cameras, unit of scopes."""

    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int]
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epcis.siren"), index=True)
    epci: Mapped[Epci | None] = relationship(back_populates="communes")


# --- security: users, tokens, audit trail (README: Security) --------------------------------------
# Times are stored timezone-aware (UTC); SQLite returns them naive, vigie.clock.as_utc fixes that.


def new_subject() -> str:
    """A user's token subject: 128 random bits, never given twice."""
    return uuid.uuid4().hex


class User(Base):
    """A person with a role, a scope of communes/EPCIs (empty: everywhere) and a habilitation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    scope_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_epcis: Mapped[list[str]] = mapped_column(JSON, default=list)
    habilitation_until: Mapped[date | None] = mapped_column(Date)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # What access tokens name: random and never reused, unlike ``id`` (a user created after a
    # deleted one may get its id; it must not inherit its tokens).
    subject: Mapped[str] = mapped_column(String(32), unique=True, default=new_subject)
    # Bumped when the role, scope or state changes: refresh tokens issued before die with it.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed logins of one account from one client address, and the lock they earned: a
    stranger's guesses lock the account out of the stranger's address only (README: Security)."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("client", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(45))
    username: Mapped[str] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RefreshToken(Base):
    """One login session: the refresh token's SHA-256 (never the token); rotated at each use."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A machine's credential: shown once, stored as SHA-256, scoped, expiring, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    scope_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_epcis: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One row of the append-only audit trail, chained to the previous one by SHA-256."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that serialises appends and anchors the chain after a purge."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    purged_through: Mapped[int] = mapped_column(Integer, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64))


class Camera(Base):
    """A camera of the centre's inventory; its ONVIF password only ever stored encrypted."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=80)
    username: Mapped[str] = mapped_column(String(100), default="")
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The mast's flag: a critical camera DOWN opens a critical incident (migration 0004).
    critical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # HTTP Basic sends the password in clear: only for a camera configured for it (0006).
    basic_auth: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Talk HTTPS to it (README: Cameras over HTTPS)."""
    tls_fingerprint: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 (hex) of its pinned certificate: the first it presented, or one trusted since."""
    mast_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The mast holding it (0013): cameras of one mast DOWN together are one mast incident."""


class Mast(Base):
    """A mast's place in the planned network, for correlation (README: Correlation).

    ``path`` lists, mast side first, the branch closures its primary cable passes through and the
    FttH node it joins: ``[{"kind": "splice"|"PM"|"NRO"|"PBO", "id": ..., "label": ...}]``, each
    with ``lon``/``lat`` (WGS84) when the plan places it; ``cable`` (0014) is the primary cable as
    ``[[lon, lat], ...]`` from the mast, for the map (none: nothing to draw).
    """

    __tablename__ = "masts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune: Mapped[str | None] = mapped_column(String(5))
    path: Mapped[list[dict]] = mapped_column(JSON, default=list)
    cable: Mapped[list[list[float]] | None] = mapped_column(JSON)


# --- supervision: saved states, history, incidents, maintenance, events (README: Supervision
# data and API). Pictures are never stored here.


class CameraStatus(Base):
    """One camera's saved ``supervision.states.CameraState`` and its latest observation."""

    __tablename__ = "camera_status"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), index=True)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    saved: Mapped[dict] = mapped_column(JSON)
    """``CameraState.to_dict()``: what a restart resumes from."""
    last_observation: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Observation(Base):
    """One check result as received (purged after ``observation_retention_days``)."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_camera_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reachable: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict] = mapped_column(JSON)


class StateChange(Base):
    """The state history: one row per ``StateChanged`` event, read back for availability."""

    __tablename__ = "state_changes"
    __table_args__ = (Index("ix_state_changes_camera_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    causes: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(16))


class IncidentRow(Base):
    """One incident, folded from its events by ``supervision.incidents.record_event``."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    causes: Mapped[list[str]] = mapped_column(JSON)
    seen_causes: Mapped[list[str]] = mapped_column(JSON)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    comment: Mapped[str | None] = mapped_column(Text)
    # Correlation (0013): a cause incident (mast, branch) holds the camera incidents it explains;
    # its camera_id is the first of its cameras (scoping, events).
    kind: Mapped[str] = mapped_column(String(16), default="camera", server_default="camera")
    cause_label: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(String(140))
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The cause incident this camera incident is suppressed by."""


class MaintenanceWindowRow(Base):
    """A scheduled intervention on one camera, ``[start, end)``: MAINTENANCE, no incident."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupervisionEvent(Base):
    """What the live stream replays: each state and incident change, numbered by ``seq``.

    ``seq`` comes from ``event_head``, whose row lock is held until commit: numbers are gapless
    and committed in order, so a client resuming after ``seq`` misses nothing.
    """

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    commune_code: Mapped[str] = mapped_column(String(5))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)


class EventHead(Base):
    """The single row holding the last sequence number handed out."""

    __tablename__ = "event_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class SupervisorRun(Base):
    """One run of the supervisor: when it started, its last heartbeat, when it stopped.

    The next run reads it to know since when nobody watched the cameras: a graceful stop sets
    ``stopped_at``; after a crash ``last_beat_at`` bounds the time still supervised.
    """

    __tablename__ = "supervisor_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    node: Mapped[str] = mapped_column(String(255), default="", server_default="")
    """The node's name (host and process), for the operators."""
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Its last lease round, in the database's time (PostgreSQL; the nodes still alive)."""


class CameraLease(Base):
    """Which supervisor run checks a camera, until when, and under which epoch (PostgreSQL).

    ``vigie.supervisor.leases`` keeps them; a result is stored only if its epoch is still the
    lease's, so a node that lost a camera cannot write over the node that took it.
    """

    __tablename__ = "camera_leases"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    renewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CameraPicture(Base):
    """What the supervisor keeps of a camera's pictures between two full checks, nothing more.

    ``reference`` is ``supervision.imaging.RegimeReferences.to_bytes()``, the day and night
    references (no identifiable picture; a single day one when stored before the regimes);
    ``previous`` the last snapshot's 480x270 grey working image (``.npz``, for ``frozen``);
    ``snapshot`` the last JPEG as received, AES-GCM encrypted with the credentials key ring and
    bound to the camera id (pictures are personal data), stored as binary (text until 0018).
    Written by ``vigie.supervisor.pictures``.
    """

    __tablename__ = "camera_pictures"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    reference: Mapped[bytes | None] = mapped_column(LargeBinary)
    reference_frames: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    previous: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    problems: Mapped[list[str] | None] = mapped_column(JSON)
    scores: Mapped[dict | None] = mapped_column(JSON)
    ptz_home: Mapped[dict | None] = mapped_column(JSON)
    """A PTZ camera's position when its reference was learned (``{"pan", "tilt", "zoom"}``)."""
    judged: Mapped[dict | None] = mapped_column(JSON)
    """The last verdict beyond its problems (``vigie.supervisor.pictures.judged``): the
    picture's lighting regime, whose reference judged it, snapshots learned per regime, what
    was seen per problem."""


class SensorPictureRow(Base):
    """A multi-sensor camera's other video source: its reference and previous picture, as
    :class:`CameraPicture` keeps the main one's (written by ``vigie.supervisor.pictures``)."""

    __tablename__ = "sensor_pictures"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Its VideoSource token, as the camera names it."""
    reference: Mapped[bytes | None] = mapped_column(LargeBinary)
    reference_frames: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    previous: Mapped[bytes | None] = mapped_column(LargeBinary)
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    problems: Mapped[list[str] | None] = mapped_column(JSON)


# --- webhooks: the centre's subscriptions and the outbox of deliveries (README: Webhooks) -------


class Webhook(Base):
    """A system of the centre that receives events by signed HTTP POST.

    ``cursor`` is the last event ``seq`` copied into the outbox: it moves in the transaction that
    copies, so a restart neither skips nor repeats an event. The HMAC secret is stored encrypted
    (``vigie.credentials``), since signing needs it back in clear.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_epcis: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Which dispatcher delivers this subscription now: one at a time keeps the order.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event to deliver to one subscription; kept until delivered, then for the retention."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        UniqueConstraint("webhook_id", "seq"),
        Index("ix_webhook_outbox_pending", "webhook_id", "delivered_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


# --- escalation: who is told of an incident, by e-mail or SMS, until someone acts (README:
# Escalation)


class NotificationRule(Base):
    """Who is told of which incidents when: severities and communes (empty: all), an on-call
    schedule (Europe/Paris; empty: always) and escalation levels of recipients.

    ``levels`` is ``[{"after_minutes": 0, "recipients": [{"name", "email", "phone"}]}, ...]``,
    ``schedule`` ``[{"days": [1..7], "start": "HH:MM", "end": "HH:MM"}, ...]``
    (``vigie.notify.schedule``).
    """

    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    severities: Mapped[list[str]] = mapped_column(JSON, default=list)
    communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    schedule: Mapped[list[dict]] = mapped_column(JSON, default=list)
    levels: Mapped[list[dict]] = mapped_column(JSON, default=list)
    repeat_minutes: Mapped[int] = mapped_column(Integer, default=15)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One message to one recipient on one channel: the escalation outbox and its record.

    One row per (incident, level, round, channel, recipient): the unique key makes planning
    idempotent across restarts and processes. Kept after sending: it is the incident's record.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("incident_id", "level", "round", "channel", "recipient"),
        Index("ix_notifications_pending", "sent_at", "cancelled_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_rules.id", ondelete="SET NULL"), index=True
    )
    level: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- the legal register: prefectoral authorisations, fields of view (README: Legal register) ---


class Authorisation(Base):
    """A prefect's authorisation of a video-protection system (CSI L252-1 ff.): its number, its
    validity, what it is for and how long images may be kept."""

    __tablename__ = "authorisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    """The arrêté's number, as the prefecture wrote it."""
    granted_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    """Last day it is in force (granted_on + 5 years unless the arrêté says otherwise)."""
    purposes: Mapped[str] = mapped_column(Text, default="")
    retention_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CameraAuthorisation(Base):
    """Which authorisation a camera films under, and since when: the link in force has no
    ``detached_at``; attaching a camera to another authorisation closes it (history kept)."""

    __tablename__ = "camera_authorisations"
    __table_args__ = (
        Index("ix_camera_authorisations_camera_detached", "camera_id", "detached_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("authorisations.id", ondelete="CASCADE"), index=True
    )
    attached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attached_by: Mapped[str] = mapped_column(String(120))
    detached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detached_by: Mapped[str | None] = mapped_column(String(120))


class FieldOfView(Base):
    """Where a camera looks from its position: the sector the register draws and searches."""

    __tablename__ = "fields_of_view"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[float] = mapped_column(Float)
    """Degrees clockwise from true north, [0, 360)."""
    angle: Mapped[float] = mapped_column(Float)
    """Opening in degrees, 1 to 360 (360: a dome or multi-sensor camera seeing all around)."""
    range_m: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
