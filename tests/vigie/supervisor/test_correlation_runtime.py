"""Correlation end to end: the real simulator switches off a mast, a branch and a lone camera
within one check interval; the supervisor opens one incident per fault, then closes them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers.supervisor_harness import FAST, World, until, world
from vigie.models import Mast, SupervisionEvent

PM = {"kind": "PM", "id": "PM-27056-03", "label": "PM 27056-03"}
S1 = {"kind": "splice", "id": "S1", "label": "manchon S1"}
S2 = {"kind": "splice", "id": "S2", "label": "manchon S2"}
# cam-0, cam-1 on A and cam-2 on B, both behind S1; cam-3, cam-4 on C behind S2; cam-5, cam-6
# on D, on the PM itself. Switched off: A and B (a branch), C (a mast), cam-5 alone.
MASTS = {"A": [0, 1], "B": [2], "C": [3, 4], "D": [5, 6]}
PATHS = {"A": [S1, PM], "B": [S1, PM], "C": [S2, PM], "D": [PM]}
OFF = [0, 1, 2, 3, 4, 5]
CONFIG = replace(FAST, correlation_window_s=5.0, camera_timeout_s=2.0)
"""A wide window and a patient timeout: a loaded machine must not stagger the failures nor
time out a healthy camera."""


def _open(w: World) -> dict[str, tuple[str, int | None]]:
    """Open incidents: key -> (kind, parent id)."""
    return {i.key: (i.kind, i.parent_id) for i in w.incidents() if i.closed_at is None}


def _faults_named(w: World) -> bool:
    shown = {key for key, (_kind, parent) in _open(w).items() if parent is None}
    attached = {key for key, (kind, parent) in _open(w).items() if parent is not None}
    return shown == {"branch:splice:S1/1", "mast:C/1", "cam-5/1"} and attached == {
        f"cam-{i}/1" for i in (0, 1, 2, 3, 4)
    }


async def _scenario(w: World) -> None:
    async with w.supervisor(CONFIG):
        await until(lambda: len(w.states()) == 7 and {s for s, _ in w.states().values()} == {"up"})
        for index in OFF:  # within one check interval
            await asyncio.to_thread(w.set_fault, index, {"kind": "offline"})
        await until(lambda: _faults_named(w), timeout=30)
        for index in OFF:
            await asyncio.to_thread(w.set_fault, index, None)
        await until(lambda: not _open(w), timeout=30)


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_one_incident_per_fault_with_the_real_simulator(tmp_path: Path, database_url: str) -> None:
    overrides = {f"cam-{i}": {"mast_id": mast} for mast, cams in MASTS.items() for i in cams}
    with world(tmp_path, database_url, cameras=7, faults={}, overrides=overrides) as w:
        with w.sessions.begin() as session:
            session.add_all(Mast(id=m, commune="27056", path=p) for m, p in PATHS.items())
        asyncio.run(_scenario(w))
        incidents = {i.key: i for i in w.incidents()}
        with w.sessions() as session:
            events = [e.payload for e in session.scalars(select(SupervisionEvent))]
    branch = incidents["branch:splice:S1/1"]
    assert branch.cause_label == "coupure probable entre le manchon S1 et le PM 27056-03"
    assert branch.close_reason == "recovered"
    assert incidents["mast:C/1"].close_reason == "recovered"
    assert incidents["cam-5/1"].parent_id is None
    assert {i.key for i in incidents.values() if i.parent_id == branch.id} == {
        "cam-0/1",
        "cam-1/1",
        "cam-2/1",
    }
    assert not [k for k in incidents if k.startswith("cam-6")]
    opened = {e["incident"]["key"]: e["incident"] for e in events if e["type"] == "incident_opened"}
    assert opened["mast:C/1"]["cameras"] == ["cam-3", "cam-4"]
    assert opened["mast:C/1"]["kind"] == "mast"
    closed = [e["incident"] for e in events if e["type"] == "incident_closed"]
    assert {"cam-3/1", "cam-4/1"} <= {i["key"] for i in closed if i.get("suppressed_by")}
    assert all(
        e["incident"]["key"] != "cam-5/1" or "suppressed_by" not in e["incident"]
        for e in events
        if "incident" in e
    )
    # A mast cause opened before its branch was complete is folded into the branch.
    assert {i.close_reason for k, i in incidents.items() if k.startswith("mast:A")} <= {
        "superseded"
    }
