"""The vocabulary shared by camera states, incidents and availability: states and causes.

Kept apart from :mod:`supervision.states` so that :mod:`supervision.incidents` can use it without
an import cycle; :mod:`supervision.states` re-exports both enums.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BLINDING", "CAMERA_REPORTED", "PICTURE_PROBLEMS", "PROBLEM_STATES", "Cause", "State"]


class State(StrEnum):
    """What the supervision centre shows for a camera."""

    UP = "up"
    """Reachable, and no active cause of degradation."""
    DEGRADED = "degraded"
    """Reachable, but the picture, clock, credentials, frame rate or resolution is wrong."""
    DOWN = "down"
    """Unreachable for K consecutive checks."""
    MAINTENANCE = "maintenance"
    """Inside a scheduled maintenance window: checked, but raises no incident."""
    UNKNOWN = "unknown"
    """Never reached yet, or the supervisor has not checked it for too long (its own fault)."""


PROBLEM_STATES = frozenset({State.DOWN, State.DEGRADED})
"""The states an incident is about."""


class Cause(StrEnum):
    """Why a camera is DOWN or DEGRADED; an incident lists its causes."""

    UNREACHABLE = "unreachable"
    CLOCK_OFFSET = "clock_offset"
    AUTH_FAILED = "auth_failed"
    LOW_FRAME_RATE = "low_frame_rate"
    WRONG_RESOLUTION = "wrong_resolution"
    # The picture problems of ``supervision.imaging.ImageReport.problems``, under the same names.
    VIDEO_LOSS = "video_loss"
    FROZEN = "frozen"
    BLURRED = "blurred"
    COVERED = "covered"
    DISPLACED = "displaced"
    GLARE = "glare"
    # What the camera itself reports in its ONVIF events (``cameras.events.HEALTH``), apart from
    # Vigie's own picture analysis so that an operator sees where each came from.
    CAMERA_TAMPER = "camera_tamper"
    CAMERA_SCENE_CHANGE = "camera_scene_change"
    CAMERA_VIDEO_LOSS = "camera_video_loss"
    CAMERA_BLURRED = "camera_blurred"
    CAMERA_TOO_DARK = "camera_too_dark"
    CAMERA_TOO_BRIGHT = "camera_too_bright"
    STORAGE_FAILURE = "storage_failure"
    HARDWARE_FAILURE = "hardware_failure"
    CERTIFICATE_CHANGED = "certificate_changed"
    """A TLS camera presented another certificate than the pinned one: nothing is sent to it
    (an impostor, or a camera re-keyed) until an administrator trusts the new one."""
    # Recording at the edge (ONVIF Profile G, ``supervision.recording``): the evidence is not kept.
    RECORDING_STOPPED = "recording_stopped"
    STORAGE_FAILED = "storage_failed"


PICTURE_PROBLEMS = frozenset(
    {Cause.VIDEO_LOSS, Cause.FROZEN, Cause.BLURRED, Cause.COVERED, Cause.DISPLACED, Cause.GLARE}
)
"""Causes that come from picture health (``ImageReport.problems``)."""

CAMERA_REPORTED = frozenset(
    {
        Cause.CAMERA_TAMPER,
        Cause.CAMERA_SCENE_CHANGE,
        Cause.CAMERA_VIDEO_LOSS,
        Cause.CAMERA_BLURRED,
        Cause.CAMERA_TOO_DARK,
        Cause.CAMERA_TOO_BRIGHT,
        Cause.STORAGE_FAILURE,
        Cause.HARDWARE_FAILURE,
    }
)
"""Causes that come from the camera's own events (an events check observes them)."""

BLINDING = frozenset(
    {
        Cause.VIDEO_LOSS,
        Cause.FROZEN,
        Cause.COVERED,
        Cause.DISPLACED,
        Cause.AUTH_FAILED,
        Cause.CAMERA_TAMPER,
        Cause.CAMERA_SCENE_CHANGE,
        Cause.CAMERA_VIDEO_LOSS,
        Cause.CERTIFICATE_CHANGED,
    }
)
"""Degradations that leave the centre without a usable picture of the scene (major severity)."""
