"""The pictures the supervisor keeps per camera, in the database and nowhere else.

Three things per camera (table ``camera_pictures``), read before and written after each full
check, so that 5,000 cameras cost no memory between their checks:

- the picture **reference** (``supervision.imaging.Reference.to_bytes``): a contrast map and
  block statistics learned from the first healthy snapshots; no one can be recognised in it;
- the **previous** snapshot in the smallest form ``assess`` accepts for ``frozen``: the
  report's ``fingerprint`` (21.6 KB: one pixel in six of the 480x270 grey working image, the
  same ``frozen`` verdict as the whole picture; nobody can be recognised in it);
- the **last snapshot**, the JPEG as the camera sent it, AES-256-GCM encrypted with the
  credentials key ring and bound to the camera id (a ciphertext moved to another camera does not
  decrypt): pictures of the public way are personal data, shown only with an audited reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, load_only

from cameras.models import PtzStatus
from supervision.imaging import FINGERPRINT_BYTES, ImageReport, RegimeReferences
from vigie.clock import as_utc
from vigie.credentials import KeyRing
from vigie.models import Camera, CameraPicture, SensorPictureRow

__all__ = [
    "PictureMemory",
    "judged",
    "last_snapshot",
    "load_memory",
    "reset_reference",
    "save_check",
    "save_sensor",
    "snapshot_context",
    "store_snapshot",
]


def snapshot_context(camera_id: str) -> str:
    """The associated data binding a snapshot's ciphertext to its camera."""
    return f"snapshot:{camera_id}"


@dataclass(frozen=True, slots=True)
class PictureMemory:
    """What one full check needs of the camera's past pictures."""

    reference: RegimeReferences | None
    """The day and night references (one stored before the regimes is the day one)."""
    reference_frames: int
    """Snapshots both have learned: the optimistic check of :func:`save_check`."""
    previous: bytes | None
    """The previous snapshot's :attr:`~supervision.imaging.ImageReport.fingerprint`, or
    ``None`` (never checked, or stored by another version: frozen is judged from the next)."""
    ptz_home: PtzStatus | None = None
    """A PTZ camera's position when its reference was learned."""
    sensors: dict[str, PictureMemory] = field(default_factory=dict)
    """A multi-sensor camera's other video sources' memory, by VideoSource token."""


def load_memory(session: Session, camera_id: str) -> PictureMemory:
    """The camera's reference and previous picture (empty for a camera never checked), and its
    other sensors' for a multi-sensor camera: one SELECT (the sensors joined), as before them."""
    rows = session.execute(
        select(CameraPicture, SensorPictureRow)
        .outerjoin(SensorPictureRow, SensorPictureRow.camera_id == CameraPicture.camera_id)
        .where(CameraPicture.camera_id == camera_id)
        .options(_MEMORY)
    ).all()
    if not rows:
        return PictureMemory(None, 0, None)
    row = rows[0][0]
    sensors = {
        sensor.source: PictureMemory(
            RegimeReferences.from_bytes(sensor.reference) if sensor.reference else None,
            sensor.reference_frames,
            _fingerprint(sensor.previous),
        )
        for _, sensor in rows
        if sensor is not None
    }
    reference = RegimeReferences.from_bytes(row.reference) if row.reference else None
    return PictureMemory(
        reference,
        row.reference_frames,
        _fingerprint(row.previous),
        _ptz(row.ptz_home),
        sensors=sensors,
    )


def _fingerprint(previous: bytes | None) -> bytes | None:
    """A stored previous picture's fingerprint, None if absent or of another version's size."""
    return previous if previous and len(previous) == FINGERPRINT_BYTES else None


def save_sensor(
    session: Session,
    camera_id: str,
    source: str,
    *,
    loaded_frames: int,
    reference: RegimeReferences | None,
    report: ImageReport,
    at: datetime,
) -> bool:
    """Store one other video source's check: its previous picture, its problems, and its
    reference if it was learned further (as :func:`save_check` does for the main one). False
    if the camera was deleted while being checked."""
    row = session.get(SensorPictureRow, (camera_id, source), with_for_update=True)
    if row is None:
        if session.get(Camera, camera_id) is None:
            return False
        row = SensorPictureRow(camera_id=camera_id, source=source[:64], reference_frames=0)
        session.add(row)
    if reference is not None and row.reference_frames == loaded_frames:
        row.reference = reference.to_bytes()
        row.reference_frames = reference.count
    row.previous = report.fingerprint
    row.assessed_at = at
    row.problems = sorted(report.problems)
    session.flush()
    return True


def _ptz(saved: dict | None) -> PtzStatus | None:
    if not isinstance(saved, dict):
        return None
    values = {k: saved.get(k) for k in ("pan", "tilt", "zoom")}
    if not all(v is None or isinstance(v, int | float) for v in values.values()):
        return None
    return PtzStatus(**values, moving=False)


_MEMORY = load_only(
    CameraPicture.reference,
    CameraPicture.reference_frames,
    CameraPicture.previous,
    CameraPicture.ptz_home,
)
"""What a full check reads: not the last snapshot (a few hundred KB of ciphertext)."""
_FRAMES = load_only(CameraPicture.reference_frames)
"""What writing needs to read: the columns it writes are only assigned."""


def _existing_row(session: Session, camera_id: str) -> CameraPicture | None:
    return session.get(
        CameraPicture,
        camera_id,
        with_for_update=True,
        populate_existing=True,
        options=[_FRAMES],
    )


def _row(session: Session, camera_id: str) -> CameraPicture:
    row = _existing_row(session, camera_id)
    if row is None:
        row = CameraPicture(camera_id=camera_id, reference_frames=0)
        session.add(row)
    return row


def save_check(
    session: Session,
    camera_id: str,
    *,
    keys: KeyRing | None,
    loaded_frames: int,
    reference: RegimeReferences | None,
    report: ImageReport,
    jpeg: bytes,
    at: datetime,
    ptz_home: PtzStatus | None = None,
    loaded: RegimeReferences | None = None,
) -> bool:
    """Store one full check's pictures: the new previous, the last snapshot, the verdict's
    scores and what it judged (:func:`judged`), and ``reference`` if it was learned further.
    ``False`` (nothing stored) if the camera was deleted while being checked.

    ``loaded_frames`` is the references' count when the check read them (``loaded``): if an
    operator reset them meanwhile, the stale ones are not written back.
    """
    row = _existing_row(session, camera_id)
    if row is None:
        # Only a camera's first check (or one deleted meanwhile) has no row yet: a row cannot
        # outlive its camera (foreign key, ON DELETE CASCADE), so the others need no look-up.
        if session.get(Camera, camera_id) is None:
            return False
        row = CameraPicture(camera_id=camera_id, reference_frames=0)
        session.add(row)
    unchanged = row.reference_frames == loaded_frames
    if reference is not None and unchanged:
        row.reference = reference.to_bytes()
        row.reference_frames = reference.count
        if ptz_home is not None and loaded_frames == 0:
            row.ptz_home = {"pan": ptz_home.pan, "tilt": ptz_home.tilt, "zoom": ptz_home.zoom}
    row.previous = report.fingerprint
    row.assessed_at = at
    row.problems = sorted(report.problems)
    row.scores = _scores(report.scores)
    current = (reference or loaded or RegimeReferences()) if unchanged else None
    row.judged = judged(report, current)
    if keys is not None:
        row.snapshot = keys.encrypt_bytes(jpeg, context=snapshot_context(camera_id))
        row.snapshot_at = at
    session.flush()
    return True


def judged(report: ImageReport, references: RegimeReferences | None) -> dict[str, Any]:
    """What the camera page shows of the last verdict beyond its problems (JSON): the picture's
    lighting regime, whose reference judged it, what was seen per problem and, when known,
    the snapshots each regime's reference has learned (``None`` if a reset happened while the
    check ran: the next one says)."""
    return {
        "regime": report.regime,
        "reference_regime": report.reference_regime,
        "learned": references.counts if references is not None else None,
        "seen": {problem: dict(values) for problem, values in report.seen.items()},
    }


def _scores(scores: Mapping[str, float]) -> dict[str, float]:
    return {name: round(float(value), 3) for name, value in sorted(scores.items())}


def store_snapshot(
    session: Session, camera_id: str, *, keys: KeyRing, jpeg: bytes, at: datetime
) -> None:
    """Keep ``jpeg`` as the camera's last snapshot (a fresh one fetched on demand)."""
    row = _row(session, camera_id)
    row.snapshot = keys.encrypt_bytes(jpeg, context=snapshot_context(camera_id))
    row.snapshot_at = at
    session.flush()


def last_snapshot(
    session: Session, camera_id: str, *, keys: KeyRing
) -> tuple[bytes, datetime] | None:
    """The camera's last snapshot (decrypted JPEG) and when it was taken, or ``None``."""
    row = session.get(CameraPicture, camera_id)
    if row is None or not row.snapshot or row.snapshot_at is None:
        return None
    jpeg = keys.decrypt_bytes(row.snapshot, context=snapshot_context(camera_id))
    return jpeg, as_utc(row.snapshot_at)


def reset_reference(session: Session, camera_id: str) -> int:
    """Forget the camera's reference: its next healthy snapshots become it. Returns how many
    snapshots the forgotten one had learned."""
    row = _row(session, camera_id)
    forgotten = row.reference_frames
    row.reference = None
    row.ptz_home = None
    row.judged = None
    session.execute(delete(SensorPictureRow).where(SensorPictureRow.camera_id == camera_id))
    row.reference_frames = 0
    session.flush()
    return forgotten
