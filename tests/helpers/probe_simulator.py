"""The simulator of the probe and scheduler tests (its cameras, faults and credentials; started
by the ``sim`` fixture of tests/supervision/conftest.py), and a simple picture check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cameras.models import CameraAddress
from tests.helpers.simulator import set_fault

USERNAME = "vigie"
PASSWORD = "Sup3rvision-test"

# camera index -> fault (the others are healthy)
FAULTS: dict[int, dict[str, Any]] = {
    1: {"kind": "clock_drift", "seconds": 3600},
    2: {"kind": "offline"},
    3: {"kind": "hang"},
    4: {"kind": "slow", "delay_s": 0.3},
    5: {"kind": "auth_failure"},
    6: {"kind": "soap_fault"},
    7: {"kind": "garbage"},
    8: {"kind": "hostile_xml", "variant": "billion_laughs"},
    9: {"kind": "hostile_xml", "variant": "xxe"},
    10: {"kind": "hostile_xml", "variant": "deep_nesting"},
    11: {"kind": "hostile_xml", "variant": "huge_text"},
    12: {"kind": "basic_auth"},
    13: {"kind": "video_loss"},
    14: {"kind": "frozen"},
}
CAMERAS = 80
"""15-79 are healthy; 70-79 are left to tests that change faults through the control API."""


@dataclass(frozen=True)
class Sim:
    """The running simulator: addresses of its cameras and its control API."""

    base_port: int
    control_port: int
    token: str

    def address(
        self,
        index: int,
        *,
        password: str = PASSWORD,
        timeout_s: float = 1.0,
        basic_auth: bool | None = None,
    ) -> CameraAddress:
        """Camera ``index``'s address; Basic allowed (by default) only for the basic-only one,
        as its inventory row would say."""
        if basic_auth is None:
            basic_auth = FAULTS.get(index, {}).get("kind") == "basic_auth"
        return CameraAddress(
            "127.0.0.1", self.base_port + index, USERNAME, password, timeout_s, basic_auth
        )

    def set_fault(self, index: int, fault: dict[str, Any] | None) -> None:
        """Replace camera ``index``'s faults (``None``: healthy again)."""
        set_fault(self.control_port, self.token, index, fault)


class Report:
    """What the probes read of an ``ImageReport``."""

    def __init__(self, problems: frozenset[str]) -> None:
        self.problems = problems


def dark_or_frozen(
    image: np.ndarray,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    *,
    chroma: float | None = None,
) -> Report:
    """A real, simple picture check standing in for ``supervision.imaging.assess``.

    Black (mean brightness under 10) is ``video_loss``; a frame identical to the previous one
    is ``frozen`` (a live sensor never sends two identical frames: noise differs).
    """
    problems = set()
    if float(image.mean()) < 10:
        problems.add("video_loss")
    if previous is not None and previous.shape == image.shape and np.array_equal(previous, image):
        problems.add("frozen")
    return Report(frozenset(problems))
