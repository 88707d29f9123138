"""Correlation in the database: cause incidents opened, folded, listed and closed (both DBs)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from supervision.states import Policy
from tests.helpers.notify_data import add_rule
from tests.helpers.service import Service
from tests.helpers.supervision_data import T0, down, ok
from vigie import db
from vigie.models import Camera, IncidentRow, Mast, Notification, SupervisionEvent
from vigie.notify import outbox
from vigie.supervisor.causes import correlate
from vigie.supervisor.writer import store_batch

WINDOW = timedelta(seconds=30)
STEP = timedelta(seconds=30)
PM = {"kind": "PM", "id": "PM-27056-03", "label": "PM 27056-03"}
S12 = {"kind": "splice", "id": "S12", "label": "manchon S12"}
S7 = {"kind": "splice", "id": "S7", "label": "manchon S7"}
# camera -> (mast, commune); A and B behind S12, C behind S7, D on the PM; all behind the PM.
CAMERAS = {
    "A-1": ("A", "27056"),
    "A-2": ("A", "27056"),
    "B-1": ("B", "27681"),
    "C-1": ("C", "27229"),
    "C-2": ("C", "27229"),
    "D-1": ("D", "27056"),
    "D-2": ("D", "27056"),
}
PATHS = {"A": [S12, PM], "B": [S12, PM], "C": [S7, PM], "D": [PM]}


def _network(service: Service) -> None:
    with db.session_scope(db.session_factory(service.engine)) as session:
        for mast, path in PATHS.items():
            session.add(Mast(id=mast, commune="27056", path=path))
        for camera_id, (mast, commune) in CAMERAS.items():
            session.add(
                Camera(
                    id=camera_id,
                    name=f"Caméra {camera_id}",
                    commune_code=commune,
                    latitude=49.0,
                    longitude=1.15,
                    host="127.0.0.1",
                    port=8000,
                    mast_id=mast,
                    created_at=T0,
                    updated_at=T0,
                )
            )


def _run(service: Service, start: int, end: int, failing: dict[str, int]) -> None:
    """One batch per 30 s step from ``start`` to ``end`` (steps), as the writer does;
    ``failing``: camera -> the step its failures begin (until step 10)."""
    sessions = db.session_factory(service.engine)
    for n in range(start, end):
        at = T0 + n * STEP
        results = [
            down(c, at) if failing.get(c, 99) <= n < 10 else ok(c, at) for c in sorted(CAMERAS)
        ]
        with db.session_scope(sessions) as session:
            store_batch(session, results, {c: Policy() for c in CAMERAS}, at)
            correlate(session, at, WINDOW)


def _incidents(service: Service, query: str = "") -> list[dict]:
    response = service.client.get(
        f"/api/v1/incidents?status=open{query}", headers=service.headers("operator")
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_one_incident_per_fault_named_by_its_cause_then_closed(service: Service) -> None:
    _network(service)
    # A's cameras fail together, B's one step later (within the window), C's together, and
    # D-1 alone (D-2 stays up, so the PM is not the cause).
    failing = {"A-1": 2, "A-2": 2, "B-1": 3, "C-1": 2, "C-2": 2, "D-1": 2}
    _run(service, 0, 5, failing)  # A, C, D-1 DOWN at step 4 ...
    mast_a = [i for i in _incidents(service, "&kind=mast") if i["cameras"] == ["A-1", "A-2"]]
    assert mast_a, "A's cameras are first one mast incident"
    _run(service, 5, 6, failing)  # ... B-1 at step 5: the branch behind S12
    shown = {
        (i["kind"], i["cause"], tuple(i["cameras"]), i["camera_id"]) for i in _incidents(service)
    }
    assert shown == {
        (
            "branch",
            "coupure probable entre le manchon S12 et le PM 27056-03",
            ("A-1", "A-2", "B-1"),
            "A-1",
        ),
        (
            "mast",
            "panne probable du mât C (alimentation, switch ou fibre d'accès)",
            ("C-1", "C-2"),
            "C-1",
        ),
        ("camera", None, (), "D-1"),
    }
    everything = _incidents(service, "&include_suppressed=true")
    suppressed = {i["camera_id"]: i["suppressed_by"] for i in everything if i["suppressed_by"]}
    assert set(suppressed) == {"A-1", "A-2", "B-1", "C-1", "C-2"}
    with db.session_scope(db.session_factory(service.engine)) as session:
        superseded = session.scalar(select(IncidentRow).where(IncidentRow.key == "mast:A/1"))
        assert superseded.close_reason == "superseded"
        events = [e.payload for e in session.scalars(select(SupervisionEvent))]
    opened = [e["incident"] for e in events if e["type"] == "incident_opened"]
    branch = next(i for i in opened if i.get("kind") == "branch")
    assert branch["cause"].startswith("coupure probable entre le manchon S12")
    assert branch["cameras"] == ["A-1", "A-2", "B-1"]
    marked = {
        e["incident"]["camera_id"]
        for e in events
        if e["type"] == "incident_updated" and e["incident"].get("suppressed_by")
    }
    assert marked == {"A-1", "A-2", "B-1", "C-1", "C-2"}
    # The EPCI B user sees the branch through its camera B-1, not C's mast nor D-1.
    scoped = service.client.get(
        "/api/v1/incidents?status=open", headers=service.headers("epci-b")
    ).json()["items"]
    assert [(i["kind"], i["cameras"]) for i in scoped] == [("branch", ["B-1"])]

    # Everything back at step 10; camera incidents close after 5 minutes UP, the causes too.
    _run(service, 6, 24, failing)
    assert _incidents(service, "&include_suppressed=true") == []
    with db.session_scope(db.session_factory(service.engine)) as session:
        closed = {
            r.key: r.close_reason
            for r in session.scalars(select(IncidentRow).where(IncidentRow.kind != "camera"))
        }
        kinds = [
            e.payload["incident"].get("kind")
            for e in session.scalars(
                select(SupervisionEvent).where(SupervisionEvent.type == "incident_closed")
            )
        ]
    assert closed == {
        "mast:A/1": "superseded",
        "branch:splice:S12/1": "recovered",
        "mast:C/1": "recovered",
    }
    assert kinds.count("branch") == 1 and kinds.count("mast") == 2


def test_escalation_tells_of_the_causes_not_of_the_cameras_under_them(service: Service) -> None:
    _network(service)
    failing = {"A-1": 2, "A-2": 2, "B-1": 2, "D-1": 2}
    _run(service, 0, 6, failing)
    sessions = db.session_factory(service.engine)
    now = T0 + 6 * STEP
    add_rule(sessions, now)
    with db.session_scope(sessions) as session:
        assert outbox.plan(session, now, base_url="https://vigie.example") > 0
        told = {
            (row.key, n.subject)
            for n, row in session.execute(
                select(Notification, IncidentRow).join(
                    IncidentRow, IncidentRow.id == Notification.incident_id
                )
            )
        }
    assert {key for key, _ in told} == {"branch:splice:S12/1", "D-1/1"}
    assert any("coupure probable entre le manchon S12" in subject for _, subject in told)


def test_a_mast_camera_is_told_only_if_no_cause_takes_it_within_the_window(
    service: Service,
) -> None:
    """Without the hold, the first camera of a dying mast would be e-mailed on its own seconds
    before its mast's incident: one message per camera again."""
    _network(service)
    sessions = db.session_factory(service.engine)
    add_rule(sessions, T0)
    failing = {"A-1": 2, "A-2": 3}  # A-1 DOWN at step 4, A-2 at step 5: mast A
    _run(service, 0, 5, failing)
    with db.session_scope(sessions) as session:
        held = outbox.plan(session, T0 + 4 * STEP + WINDOW / 2, base_url="https://v", hold=WINDOW)
    assert held == 0, "A-1 alone is held while its mast may still be the cause"
    _run(service, 5, 6, failing)
    with db.session_scope(sessions) as session:
        assert outbox.plan(session, T0 + 5 * STEP, base_url="https://v", hold=WINDOW) == 1
        (told,) = session.scalars(select(Notification)).all()
        cause = session.get(IncidentRow, told.incident_id)
    assert cause.kind == "mast"
    assert told.subject.startswith("[Vigie] Incident majeur : panne probable du mât A ")
    assert told.subject.endswith(", 2 caméras)"), told.subject
    assert "Caméras hors service ensemble (2) : Caméra A-1 (A-1), Caméra A-2 (A-2)" in told.text
    assert "Cause probable : panne probable du mât A" in told.text

    # A camera whose incident no cause takes is told once the window has passed.
    _run(service, 6, 9, {**failing, "D-1": 6})  # D-1 DOWN at step 8, D-2 stays up
    with db.session_scope(sessions) as session:
        at = T0 + 8 * STEP
        assert outbox.plan(session, at, base_url="https://v", hold=WINDOW) == 0
        assert outbox.plan(session, at + WINDOW, base_url="https://v", hold=WINDOW) == 1
