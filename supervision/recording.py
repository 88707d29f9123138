"""Recording health (ONVIF Profile G): is the evidence the gendarmerie will ask for being kept?

Pure: a full check reads what the camera says (:class:`cameras.recording.RecordingStatus`),
:func:`observe` turns it into an :class:`Observation` carried by the check result, and
:func:`problems` judges it under the camera's policy (``max_recording_lag_s``), so the lag is
configurable per camera like every other threshold. A camera that does not record at the edge
observes nothing: edge recording is a site's choice, its absence is no fault.

The lag is measured on the camera's own clock: ``DataUntil`` is written by it, so a camera an
hour off would otherwise look an hour behind (or ahead). ``now + clock offset`` is what the
camera believes the time is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cameras.recording import RecordingJob, RecordingStatus
from supervision.conditions import Cause

__all__ = [
    "DEFAULT_MAX_LAG_S",
    "LABELS",
    "RECORDING_PROBLEMS",
    "Observation",
    "describe",
    "observe",
    "problems",
]

DEFAULT_MAX_LAG_S = 600.0
"""How far behind the camera's clock the latest recorded data may be (10 minutes): cameras
write their recordings in blocks of a few seconds to a minute, an SD card flushes later."""

RECORDING_PROBLEMS = frozenset({Cause.RECORDING_STOPPED, Cause.STORAGE_FAILED})

LABELS = {
    Cause.RECORDING_STOPPED: "enregistrement arrêté",
    Cause.STORAGE_FAILED: "stockage en défaut",
}
"""The operators' words for the problems (the dashboard's and the notifications')."""

RUNNING = frozenset({"active", "partiallyactive"})
"""Job states that mean recording goes on (PartiallyActive: some tracks record)."""

_STORAGE_WORDS = re.compile(
    r"\b(storage|disk|disque|sd|sdcard|card|carte|full|plein|space|medium|media|hdd|nas)\b",
    re.IGNORECASE,
)
"""Words by which firmwares' job and track errors blame the storage (free text in ONVIF)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What one check saw of the recording, ready for the state machine."""

    active: bool
    """A recording job records (Active or PartiallyActive, not in Error)."""
    lag_s: float | None
    """Camera's now minus the latest ``DataUntil``, in seconds; None when not told."""
    storage_failed: bool
    """A job's or track's error blames the storage."""


def _running(job: RecordingJob) -> bool:
    state = (job.state or job.mode).replace(" ", "").lower()
    return state in RUNNING


def observe(status: RecordingStatus, *, now: datetime, clock_offset_s: float) -> Observation:
    """The observation of a Profile G camera's answers at ``now`` (aware UTC, our clock)."""
    until = status.summary.data_until if status.summary is not None else None
    lag = None
    if until is not None:
        lag = (now + timedelta(seconds=clock_offset_s) - until).total_seconds()
    failed = any(_STORAGE_WORDS.search(text) for job in status.jobs for text in job.errors)
    return Observation(
        active=any(_running(job) for job in status.jobs), lag_s=lag, storage_failed=failed
    )


def problems(
    active: bool, lag_s: float | None, storage_failed: bool, *, max_lag_s: float
) -> frozenset[Cause]:
    """``recording_stopped`` when no job records or the latest data is older than
    ``max_lag_s``; ``storage_failed`` when the camera blames its storage."""
    found = set()
    if not active or (lag_s is not None and lag_s > max_lag_s):
        found.add(Cause.RECORDING_STOPPED)
    if storage_failed:
        found.add(Cause.STORAGE_FAILED)
    return frozenset(found)


def describe(active: bool, lag_s: float | None, storage_failed: bool, *, max_lag_s: float) -> str:
    """The operator's sentence, in French: ``enregistrement arrêté depuis 42 min``."""
    found = problems(active, lag_s, storage_failed, max_lag_s=max_lag_s)
    if not found:
        return "enregistrement en cours"
    parts = []
    if Cause.RECORDING_STOPPED in found:
        text = LABELS[Cause.RECORDING_STOPPED]
        if lag_s is not None and lag_s >= 60:  # under a minute says nothing more
            text += f" depuis {_duration(lag_s)}"
        parts.append(text)
    if Cause.STORAGE_FAILED in found:
        parts.append(LABELS[Cause.STORAGE_FAILED])
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    """``42 min``, ``3 h 05``, ``2 j`` (French abbreviations)."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d}"
    return f"{hours // 24} j"
