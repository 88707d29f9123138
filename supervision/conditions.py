"""The vocabulary shared by camera states, incidents and availability: states and causes.

Kept apart from :mod:`supervision.states` so that :mod:`supervision.incidents` can use it without
an import cycle; :mod:`supervision.states` re-exports both enums.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BLINDING", "PICTURE_PROBLEMS", "PROBLEM_STATES", "Cause", "State"]


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


PICTURE_PROBLEMS = frozenset(
    {Cause.VIDEO_LOSS, Cause.FROZEN, Cause.BLURRED, Cause.COVERED, Cause.DISPLACED, Cause.GLARE}
)
"""Causes that come from picture health (``ImageReport.problems``)."""

BLINDING = frozenset(
    {Cause.VIDEO_LOSS, Cause.FROZEN, Cause.COVERED, Cause.DISPLACED, Cause.AUTH_FAILED}
)
"""Degradations that leave the centre without a usable picture of the scene (major severity)."""
