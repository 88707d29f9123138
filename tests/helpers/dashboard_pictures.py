"""Real picture verdicts for the dashboard tests: what the camera page says was seen and which
reference judged, computed by ``supervision.imaging`` on a real photograph (not written by hand).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from supervision.imaging import ImageReport, Reference, RegimeReferences, assess
from supervision.probes import picture_observed
from tests.helpers import picture_faults as pf
from vigie import db
from vigie.clock import utcnow
from vigie.supervisor.pictures import save_check


@cache
def _day_references() -> tuple[np.ndarray, RegimeReferences]:
    base = pf.view(pf.scene("astronaut"))
    rng = np.random.default_rng(51)
    return base, RegimeReferences(day=Reference.learn([pf.camera(base, rng) for _ in range(3)]))


@cache
def blurred_picture() -> dict[str, Any]:
    """``CheckResult.picture`` of a real blurred snapshot (sigma 16 px) against its day
    reference: ``seen`` holds the detail left, a share of the reference's."""
    base, references = _day_references()
    report = assess(pf.camera(pf.blurred(base, 16.0), np.random.default_rng(52)), references)
    assert report.problems == {"blurred"}, report.problems
    observed = picture_observed(report)
    assert observed is not None
    return observed


def night_verdict(engine: Engine, camera_id: str) -> ImageReport:
    """Store, as the supervisor does, the verdict on a first infrared night snapshot: judged
    against the day reference, and learned as the night reference's first image (1/3)."""
    base, references = _day_references()
    night = pf.jpeg(pf.night(base, np.random.default_rng(53)), 80)
    report = assess(night, references)
    assert report.regime == "night" and report.reference_regime == "day" and report.healthy
    learned = references.learned("night", references.night.update(night, report=report))
    with db.session_scope(db.session_factory(engine)) as session:
        save_check(
            session,
            camera_id,
            keys=None,
            loaded_frames=0,
            reference=learned,
            report=report,
            jpeg=b"",
            at=utcnow(),
        )
    return report
