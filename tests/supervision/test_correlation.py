"""Correlation: cameras DOWN together get one incident named by their common cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from supervision.correlation import (
    CauseRecord,
    Element,
    Topology,
    find_faults,
    reconcile,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=30)
PM = Element("PM", "PM-27056-03", "PM PM-27056-03")
S12 = Element("splice", "S12", "manchon S12")
S7 = Element("splice", "S7", "manchon S7")

# A and B behind S12, C behind S7, both closures behind the PM; D on the PM directly.
TOPOLOGY = Topology(
    cameras={
        "A-1": "A",
        "A-2": "A",
        "B-1": "B",
        "C-1": "C",
        "C-2": "C",
        "D-1": "D",
        "D-2": "D",
    },
    paths={"A": (S12, PM), "B": (S12, PM), "C": (S7, PM), "D": (PM,)},
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_mast_whose_cameras_all_fell_together_is_one_fault() -> None:
    faults = find_faults(TOPOLOGY, {"C-1": at(0), "C-2": at(12)}, WINDOW)
    assert [(f.kind, f.scope, f.cameras) for f in faults] == [
        ("mast", "C", frozenset({"C-1", "C-2"}))
    ]
    assert "mât C" in faults[0].label


def test_two_masts_behind_a_closure_name_the_closure_and_its_upstream() -> None:
    down = {"A-1": at(0), "A-2": at(5), "B-1": at(20)}
    faults = find_faults(TOPOLOGY, down, WINDOW)
    assert len(faults) == 1
    assert faults[0].kind == "branch"
    assert faults[0].scope == "splice:S12"
    assert faults[0].cameras == frozenset(down)
    assert faults[0].label == "coupure probable entre le manchon S12 et le PM PM-27056-03"


def test_a_lone_camera_is_no_fault_and_keeps_its_own_incident() -> None:
    down = {"A-1": at(0), "A-2": at(5), "B-1": at(20), "D-1": at(10)}
    faults = find_faults(TOPOLOGY, down, WINDOW)
    assert [f.scope for f in faults] == ["splice:S12"]
    decision = reconcile(TOPOLOGY, faults, [], dict.fromkeys(down), down)
    assert "D-1" not in decision.attach
    assert {c for c, k in decision.attach.items() if k == "branch/splice:S12"} == {
        "A-1",
        "A-2",
        "B-1",
    }


def test_masts_parting_for_different_nodes_name_the_closure_alone() -> None:
    pm2 = Element("PM", "PM-27056-04", "PM 27056-04")
    parting = Topology(cameras={"E-1": "E", "F-1": "F"}, paths={"E": (S7, PM), "F": (S7, pm2)})
    (fault,) = find_faults(parting, {"E-1": at(0), "F-1": at(3)}, WINDOW)
    assert fault.label == "coupure probable près du manchon S7"


def test_a_mast_of_one_camera_is_just_the_camera() -> None:
    assert find_faults(TOPOLOGY, {"B-1": at(0)}, WINDOW) == []


def test_failures_further_apart_than_the_window_are_separate() -> None:
    staggered = {"C-1": at(0), "C-2": at(45)}
    assert find_faults(TOPOLOGY, staggered, WINDOW) == []
    masts_apart = {"A-1": at(0), "A-2": at(2), "B-1": at(200)}
    assert [(f.kind, f.scope) for f in find_faults(TOPOLOGY, masts_apart, WINDOW)] == [
        ("mast", "A")
    ]


def test_the_whole_pm_down_is_the_pm_not_its_closures() -> None:
    down = {c: at(i) for i, c in enumerate(TOPOLOGY.cameras)}
    faults = find_faults(TOPOLOGY, down, WINDOW)
    assert [(f.kind, f.scope) for f in faults] == [("branch", "PM:PM-27056-03")]
    assert faults[0].label == "coupure probable en amont du PM PM-27056-03"
    assert faults[0].cameras == frozenset(TOPOLOGY.cameras)


def test_a_mast_cause_is_absorbed_when_its_branch_falls() -> None:
    mast = CauseRecord(key="mast:A/1", kind="mast", scope="A", cameras=frozenset({"A-1", "A-2"}))
    down = {"A-1": at(0), "A-2": at(1), "B-1": at(15)}
    faults = find_faults(TOPOLOGY, down, WINDOW)
    opened = {"A-1": "mast:A/1", "A-2": "mast:A/1", "B-1": None}
    decision = reconcile(TOPOLOGY, faults, [mast], opened, down)
    assert [f.scope for f in decision.opened] == ["splice:S12"]
    assert decision.superseded == ["mast:A/1"]
    assert set(decision.attach) == {"A-1", "A-2", "B-1"}
    assert decision.closed == []


def test_an_open_cause_stays_while_a_camera_is_out_then_closes() -> None:
    cause = CauseRecord(
        key="branch:splice:S12/1",
        kind="branch",
        scope="splice:S12",
        cameras=frozenset({"A-1", "A-2", "B-1"}),
    )
    # A-1 and A-2 back (their incidents wait for the quiet period), B-1 still down.
    decision = reconcile(TOPOLOGY, [], [cause], dict.fromkeys(["A-1", "A-2", "B-1"]), ["B-1"])
    assert decision.opened == [] and decision.closed == []
    # Every camera incident closed: the cause closes.
    decision = reconcile(TOPOLOGY, [], [cause], {}, [])
    assert decision.closed == ["branch:splice:S12/1"]


def test_an_open_cause_takes_a_camera_of_its_scope_that_falls_again() -> None:
    cause = CauseRecord(key="mast:C/1", kind="mast", scope="C", cameras=frozenset({"C-1"}))
    decision = reconcile(TOPOLOGY, [], [cause], {"C-1": "mast:C/1", "C-2": None}, ["C-2"])
    assert decision.attach == {"C-2": "mast/C"}
    assert decision.closed == []
