"""The demo's centre day, piece by piece, on the Eure sample's plan: faults that correlation
names as intended, a register with its alerts and a point query, an on-call rule, and the
demo's own SMTP server. (The whole day runs end to end in test_demo.py.)"""

from __future__ import annotations

import shutil
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from supervision.correlation import find_faults
from vigie import db
from vigie.cli.demo import demo_schedule, fault_schedule, plan_folder, prepare
from vigie.cli.demo_scenario import (
    CENTRE,
    ON_CALL,
    DemoMailbox,
    cause_faults,
    point_in_view,
    requisition_lines,
    topology_of,
)
from vigie.clock import utcnow
from vigie.inventory.topology import MastPath
from vigie.models import Camera, FieldOfView, NotificationRule
from vigie.register import alerts, requisitions
from vigie.register.authorisations import current


@pytest.fixture(scope="module")
def world(sample_plan: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo-world")
    shutil.copytree(sample_plan, plan_folder(out))
    return prepare(out, sim_port=20000, smtp_port=2525, service_url="http://127.0.0.1:8000")


def test_the_mast_and_the_branch_failures_are_named_as_the_demo_says(world) -> None:
    rows, masts = world.rows, world.masts
    single = {i for f in fault_schedule(len(rows)) for i in f.indices}
    causes = cause_faults(rows, masts, single)
    assert [c.kind for c in causes] == ["mast", "branch"]
    mast, branch = causes
    assert not (set(mast.indices) | set(branch.indices)) & single
    assert not set(mast.indices) & set(branch.indices)
    assert len(mast.indices) >= 2 and len(branch.masts) >= 2
    # What correlation itself says with every scripted camera down at once.
    ids = {i: row.id for i, row in enumerate(rows)}
    down = {ids[i]: utcnow() for i in (*single, *mast.indices, *branch.indices)}
    found = find_faults(topology_of(rows, masts), down, timedelta(seconds=30))
    named = {(f.kind, f.label, frozenset(f.cameras)) for f in found}
    assert ("mast", mast.label, frozenset(ids[i] for i in mast.indices)) in named
    assert ("branch", branch.label, frozenset(ids[i] for i in branch.indices)) in named
    assert mast.label.startswith("panne probable du mât M-")
    assert branch.label.startswith("coupure probable entre le manchon S")
    # In the schedule: off together, healed later, after the single faults' first minutes.
    schedule = demo_schedule(rows, masts)
    together = [f for f in schedule if len(f.indices) > 1]
    assert [(f.indices, f.fault is None) for f in together] == [
        (mast.indices, False),
        (branch.indices, False),
        (mast.indices, True),
        (branch.indices, True),
    ]
    assert [f.after for f in schedule] == sorted(f.after for f in schedule)


def test_without_a_plan_s_paths_only_the_mast_fails(world) -> None:
    # Masts imported from a file have no place in the network: no branch to cut.
    bare = [MastPath(id=m.id, commune=m.commune) for m in world.masts]
    assert [c.kind for c in cause_faults(world.rows, bare, set())] == ["mast"]
    assert [f for f in demo_schedule(world.rows, bare) if "branche" in f.what] == []


def test_the_register_has_its_alerts_and_answers_a_point_query(world) -> None:
    engine = db.make_engine(world.settings.db_url)
    now = utcnow()
    try:
        with db.session_factory(engine)() as session:
            assert session.scalar(select(FieldOfView).limit(1)) is not None
            found = alerts.alerts(session, select(Camera), now=now, months=4)
            assert {a.commune for a in found if a.code == "expiring"} == {
                world.register["expiring"]
            }
            # the camera without any (flagged « missing » once the supervision sees it film)
            unauthorised = world.register["unauthorised"]
            linked = current(session, [row.id for row in world.rows])
            assert set(linked) == {row.id for row in world.rows} - {unauthorised}
            mast_fault = cause_faults(world.rows, world.masts, set())[0]
            row = world.rows[mast_fault.indices[0]]
            latitude, longitude = point_in_view(session, row)
            seen = requisitions.search(
                session,
                select(Camera, FieldOfView).join(FieldOfView, FieldOfView.camera_id == Camera.id),
                latitude=latitude,
                longitude=longitude,
                start=now - timedelta(hours=1),
                end=now,
                now=now,
            )
            assert row.id in {s.camera.id for s in seen}
            rule = session.scalar(select(NotificationRule))
            assert [r["email"] for level in rule.levels for r in level["recipients"]] == [
                CENTRE,
                ON_CALL,
            ]
    finally:
        engine.dispose()


def test_a_point_query_answer_reads_in_french() -> None:
    answer = {
        "latitude": 49.0931,
        "longitude": 1.4852,
        "cameras": [
            {
                "camera_id": "M-1-c1",
                "name": "Mairie",
                "states": [
                    {"state": "up", "label": "en service", "seconds": 90.0},
                    {"state": "down", "label": "hors service", "seconds": 30.0},
                ],
                "authorisations": [{"number": "DEMO-2024-27056"}],
                "retention": {"label": "images conservées"},
            }
        ],
    }
    assert requisition_lines(answer) == [
        "réquisition (démo) : le point 49.09310 N, 1.48520 E est vu par 1 caméra(s)",
        "  Mairie (M-1-c1) : en service 75 %, hors service 25 % ; autorisation "
        "DEMO-2024-27056 ; images conservées",
    ]


def test_the_demo_smtp_server_keeps_and_says_each_mail(tmp_path: Path) -> None:
    said: list[str] = []
    with DemoMailbox(tmp_path / "courriels", said.append, lambda: "t+5 s") as box:
        message = EmailMessage()
        message["From"], message["To"] = "vigie@vigie-demo.fr", CENTRE
        message["Subject"] = "[Vigie] Incident majeur : panne probable du mât M-1"
        message.set_content("Bonjour,")
        with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as client:
            client.send_message(message)
    assert said == [
        f"t+5 s : courriel reçu pour {CENTRE} : « [Vigie] Incident majeur : panne probable du "
        "mât M-1 »"
    ]
    (kept,) = (tmp_path / "courriels").glob("*.eml")
    assert b"Bonjour," in kept.read_bytes()
