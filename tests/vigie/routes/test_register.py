"""/api/v1/register: authorisations, fields of view, alerts, requisitions (README: Legal
register), on SQLite and PostgreSQL, at a fixed service clock."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pyogrio
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from tests.helpers.service import Service, make_settings, running_service
from tests.helpers.supervision_data import OUTAGE, T0, add_cameras
from vigie import db
from vigie.deps import get_now
from vigie.models import AuditEvent
from vigie.register.fov import GEOD

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""A week after the seeded history (tests.helpers.supervision_data: cam-a1 and cam-b1 DOWN
from 09:01 on 2 March, cam-a2 UP)."""
BASE = "/api/v1/register"
REASON = "réquisition 2026/114 de l'OPJ Martin, vol à l'arraché"


@pytest.fixture
def register(supervised: Service) -> Service:
    """The supervised service at NOW, with fields of view: every seeded camera stands at
    (49.0, 1.15); cam-a1 looks east, cam-a2 west, cam-b1 all around (100 m)."""
    supervised.client.app.dependency_overrides[get_now] = lambda: NOW
    headers = supervised.headers("engineer")
    for camera_id, direction, angle in (
        ("cam-a1", 90, 90),
        ("cam-a2", 270, 90),
        ("cam-b1", 0, 360),
    ):
        response = supervised.client.put(
            f"{BASE}/cameras/{camera_id}/fov",
            headers=headers,
            json={"direction": direction, "angle": angle, "range_m": 100},
        )
        assert response.status_code == 200, response.text
    return supervised


def east(metres: float, azimuth: float = 90) -> dict[str, float]:
    lon, lat, _ = GEOD.fwd(1.15, 49.0, azimuth, metres)
    return {"latitude": lat, "longitude": lon}


def create(service: Service, **fields) -> dict:
    body = {
        "number": "2023/VP/0042",
        "granted_on": "2023-06-01",
        "purposes": "prévention des atteintes aux biens ; régulation du trafic",
        "retention_days": 15,
    } | fields
    response = service.client.post(
        f"{BASE}/authorisations", headers=service.headers("admin"), json=body
    )
    assert response.status_code == 201, response.text
    return response.json()


def audit_rows(engine: Engine, prefix: str) -> list[AuditEvent]:
    with db.session_scope(db.session_factory(engine)) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_the_migration_goes_down_and_up(engine: Engine) -> None:
    db.upgrade(engine)
    tables = {"authorisations", "camera_authorisations", "fields_of_view"}
    assert tables <= set(inspect(engine).get_table_names())
    db.downgrade(engine, "0010")
    assert not tables & set(inspect(engine).get_table_names())
    assert "cameras" in inspect(engine).get_table_names()
    assert db.upgrade(engine) == db.head_revision()
    assert tables <= set(inspect(engine).get_table_names())


def test_authorisations_are_kept_with_their_history_and_audited(register: Service) -> None:
    first = create(register, cameras=["cam-a1", "cam-a2"])
    assert first["ends_on"] == "2028-06-01"  # five years by default
    assert first["cameras"] == ["cam-a1", "cam-a2"] and first["in_force"] is True
    second = create(register, number="2026/VP/0007", granted_on="2026-02-01", ends_on="2031-01-31")
    admin = register.headers("admin")
    moved = register.client.put(
        f"{BASE}/authorisations/{second['id']}/cameras/cam-a2", headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["cameras"] == ["cam-a2"]
    old = register.client.get(f"{BASE}/authorisations/{first['id']}", headers=admin).json()
    assert old["cameras"] == ["cam-a1"]  # a camera is under one authorisation at a time
    closed = [link for link in old["history"] if link["camera_id"] == "cam-a2"]
    assert closed and closed[0]["detached_at"] is not None  # history kept
    patched = register.client.patch(
        f"{BASE}/authorisations/{first['id']}",
        headers=register.headers("engineer"),
        json={"ends_on": "2028-12-31"},
    )
    assert patched.status_code == 200 and patched.json()["ends_on"] == "2028-12-31"
    duplicate = register.client.post(
        f"{BASE}/authorisations",
        headers=admin,
        json={"number": "2023/VP/0042", "granted_on": "2023-06-01", "retention_days": 10},
    )
    assert duplicate.status_code == 409
    actions = [row.action for row in audit_rows(register.engine, "register.")]
    assert actions == [
        "register.fov_set",
        "register.fov_set",
        "register.fov_set",
        "register.camera_attach",
        "register.camera_attach",
        "register.authorisation_create",
        "register.authorisation_create",
        "register.camera_attach",
        "register.authorisation_update",
    ]
    # the municipal police of 27056 sees the authorisation of its camera cam-a1 only
    mairie = register.headers("mairie-27056")
    seen = register.client.get(f"{BASE}/authorisations", headers=mairie).json()
    assert [(a["number"], a["cameras"]) for a in seen] == [("2023/VP/0042", ["cam-a1"])]
    hidden = register.client.get(f"{BASE}/authorisations/{second['id']}", headers=mairie)
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/authorisations",
            {"number": "x", "granted_on": "2024-01-01", "retention_days": 31},
            "retention_days",
        ),
        (
            "/authorisations",
            {"number": "x", "granted_on": "2024-01-01", "retention_days": 0},
            "retention_days",
        ),
        ("/authorisations", {"granted_on": "2024-01-01", "retention_days": 10}, "number"),
        ("/cameras/cam-a1/fov", {"direction": 90, "angle": 0, "range_m": 100}, "angle"),
        ("/cameras/cam-a1/fov", {"direction": 361, "angle": 90, "range_m": 100}, "direction"),
        ("/cameras/cam-a1/fov", {"direction": 90, "angle": 90, "range_m": 501}, "range_m"),
    ],
)
def test_invalid_fields_are_named(register: Service, path: str, body: dict, field: str) -> None:
    response = (
        register.client.post(BASE + path, headers=register.headers("admin"), json=body)
        if path == "/authorisations"
        else register.client.put(BASE + path, headers=register.headers("admin"), json=body)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"][-1] for e in response.json()["errors"]] == [field]


def test_an_end_before_the_grant_is_refused(register: Service) -> None:
    response = register.client.post(
        f"{BASE}/authorisations",
        headers=register.headers("admin"),
        json={
            "number": "A",
            "granted_on": "2024-01-01",
            "ends_on": "2023-01-01",
            "retention_days": 7,
        },
    )
    assert response.status_code == 422
    assert "ends_on must come after granted_on" in response.json()["errors"][0]["msg"]


def test_alerts_four_months_before_the_end_and_without_a_valid_authorisation(
    register: Service,
) -> None:
    # ends 2026-07-09: within four months of 10 March 2026 (10 July), not within three
    create(
        register, number="SOON", granted_on="2021-07-10", ends_on="2026-07-09", cameras=["cam-a1"]
    )
    # ends 2026-08-01: within five months, not four
    create(
        register, number="LATER", granted_on="2021-08-02", ends_on="2026-08-01", cameras=["cam-b1"]
    )
    # ended 2025-12-31: cam-a2, UP, films without a valid authorisation
    create(
        register, number="OLD", granted_on="2020-01-01", ends_on="2025-12-31", cameras=["cam-a2"]
    )
    headers = register.headers("operator")
    body = register.client.get(f"{BASE}/alerts", headers=headers).json()
    assert body["months"] == 4 and body["as_of"] == "2026-03-10"
    found = {(a["camera_id"], a["code"]) for a in body["alerts"]}
    assert found == {("cam-a1", "expiring"), ("cam-a2", "expired")}
    expired = next(a for a in body["alerts"] if a["code"] == "expired")
    assert expired["label"] == "sans autorisation valide : autorisation expirée"
    assert (
        "filme sans autorisation valide" in expired["message"]
        and "31/12/2025" in expired["message"]
    )
    assert expired["filming"] is True
    five = register.client.get(f"{BASE}/alerts?months=5", headers=headers).json()
    assert {(a["camera_id"], a["code"]) for a in five["alerts"]} >= {("cam-b1", "expiring")}
    three = register.client.get(f"{BASE}/alerts?months=3", headers=headers).json()
    assert {a["code"] for a in three["alerts"]} == {"expired"}


def test_a_filming_camera_without_any_authorisation_is_reported(register: Service) -> None:
    body = register.client.get(f"{BASE}/alerts", headers=register.headers("gendarme")).json()
    assert {(a["camera_id"], a["code"]) for a in body["alerts"]} == {
        ("cam-a1", "missing"),  # DOWN since 2 March, UP before: filmed within 30 days
        ("cam-a2", "missing"),
        ("cam-b1", "missing"),
    }
    assert body["alerts"][0]["label"] == "sans autorisation valide : aucune autorisation"
    # a month and more later, the cameras DOWN since 2 March no longer film
    register.client.app.dependency_overrides[get_now] = lambda: NOW + timedelta(days=30)
    later = register.client.get(f"{BASE}/alerts", headers=register.headers("gendarme")).json()
    assert {a["camera_id"] for a in later["alerts"]} == {"cam-a2"}
    register.client.app.dependency_overrides[get_now] = lambda: NOW
    mairie = register.client.get(f"{BASE}/alerts", headers=register.headers("mairie-27056"))
    assert {a["camera_id"] for a in mairie.json()["alerts"]} == {"cam-a1"}


def requisition(service: Service, user: str, **fields) -> object:
    body = {
        **east(50),
        "start": (T0 + timedelta(minutes=30)).isoformat(),
        "end": (OUTAGE + timedelta(hours=1)).isoformat(),
        "reason": REASON,
        "reference": "2026/114",
        "requester": "OPJ Martin, BR Bernay",
    } | fields
    return service.client.post(f"{BASE}/requisitions", headers=service.headers(user), json=body)


def test_a_requisition_lists_the_cameras_that_saw_the_place_and_is_audited(
    register: Service,
) -> None:
    authorisation = create(register, number="2023/VP/0042")
    attached = register.client.put(
        f"{BASE}/authorisations/{authorisation['id']}/cameras/cam-a1",
        headers=register.headers("admin"),
        json={"since": "2026-01-01T00:00:00Z"},
    )
    assert attached.status_code == 200, attached.text
    response = requisition(register, "gendarme")
    assert response.status_code == 200, response.text
    body = response.json()
    cameras = {camera["camera_id"]: camera for camera in body["cameras"]}
    assert set(cameras) == {"cam-a1", "cam-b1"}  # cam-a2 looks west
    a1 = cameras["cam-a1"]
    # UP from the start of the period, DOWN at the third failure (09:01), to the end
    assert [(s["state"], s["start"], s["end"]) for s in a1["states"]] == [
        ("up", "2026-03-02T08:30:00Z", "2026-03-02T09:01:00Z"),
        ("down", "2026-03-02T09:01:00Z", "2026-03-02T10:00:00Z"),
    ]
    assert a1["states"][1]["label"] == "hors service"
    assert a1["availability"]["up_s"] == 31 * 60 and a1["availability"]["down_s"] == 59 * 60
    assert [a["number"] for a in a1["authorisations"]] == ["2023/VP/0042"]
    assert a1["authorisations"][0]["in_force"] is True
    assert a1["retention"]["code"] == "retained"  # 8 days old, kept 15
    assert cameras["cam-b1"]["retention"]["code"] == "unknown"  # no authorisation
    (row,) = audit_rows(register.engine, "register.requisition")
    assert (row.actor, row.reason, row.object_id) == ("gendarme", REASON, "2026/114")
    detail = json.loads(row.detail)
    assert detail["cameras"] == ["cam-a1", "cam-b1"]
    assert detail["requester"] == "OPJ Martin, BR Bernay"
    # three weeks later, 15 days of retention have passed for the whole period
    register.client.app.dependency_overrides[get_now] = lambda: NOW + timedelta(days=14)
    late = requisition(register, "operator").json()
    assert {c["camera_id"]: c["retention"]["code"] for c in late["cameras"]}["cam-a1"] == "expired"


def test_a_requisition_sees_only_the_callers_communes(register: Service) -> None:
    body = requisition(register, "mairie-27056").json()
    assert [camera["camera_id"] for camera in body["cameras"]] == ["cam-a1"]
    west = requisition(register, "gendarme", **east(50, azimuth=270)).json()
    assert [camera["camera_id"] for camera in west["cameras"]] == ["cam-a2", "cam-b1"]
    far = requisition(register, "gendarme", **east(150)).json()
    assert far["cameras"] == [] and far["unplaced"] == []


def test_a_requisition_names_the_nearby_cameras_without_a_field_of_view(
    supervised: Service,
) -> None:
    supervised.client.app.dependency_overrides[get_now] = lambda: NOW
    body = requisition(supervised, "gendarme", **east(300)).json()
    assert body["cameras"] == [] and body["unplaced"] == ["cam-a1", "cam-a2", "cam-b1"]
    assert requisition(supervised, "gendarme", **east(600)).json()["unplaced"] == []
    (row,) = audit_rows(supervised.engine, "register.requisition")[:1]
    assert json.loads(row.detail)["unplaced"] == ["cam-a1", "cam-a2", "cam-b1"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"latitude": None, "longitude": None, "address": "12 rue Thiers, Bernay"}, "no geocoder"),
        ({"latitude": None}, "latitude and longitude are required"),
        ({"end": (T0 + timedelta(days=40)).isoformat()}, "longer than 31 days"),
        ({"reason": "pour voir"}, "at least 10 characters"),
    ],
)
def test_a_bad_requisition_says_what_is_missing(
    register: Service, fields: dict, message: str
) -> None:
    response = requisition(register, "gendarme", **fields)
    assert response.status_code == 422
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert audit_rows(register.engine, "register.requisition") == []


def test_a_requisition_of_the_future_is_refused(register: Service) -> None:
    response = requisition(
        register,
        "gendarme",
        start=(NOW - timedelta(hours=1)).isoformat(),
        end=(NOW + timedelta(hours=1)).isoformat(),
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("end:")


def test_the_fields_of_view_as_geojson_and_geopackage(register: Service, tmp_path) -> None:
    create(register, cameras=["cam-a1"])
    headers = register.headers("gendarme")
    response = register.client.get(f"{BASE}/fov.geojson", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    layer = response.json()
    assert layer["type"] == "FeatureCollection" and "crs" not in layer  # RFC 7946: WGS84
    features = {f["properties"]["camera_id"]: f for f in layer["features"]}
    assert set(features) == {"cam-a1", "cam-a2", "cam-b1"}
    a1 = features["cam-a1"]
    assert a1["geometry"]["type"] == "Polygon"
    ring = a1["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] == [1.15, 49.0]  # the apex: longitude, latitude
    assert all(1.15 <= lon < 1.152 and 48.999 < lat < 49.001 for lon, lat in ring)
    assert a1["properties"] | {"commune": "27056"} == a1["properties"]
    assert a1["properties"]["authorisation"] == "2023/VP/0042"
    assert a1["properties"]["authorisation_ends_on"] == "2028-06-01"
    assert a1["properties"]["state"] == "down"
    assert features["cam-a2"]["properties"]["authorisation"] is None
    gpkg = register.client.get(f"{BASE}/fov.gpkg", headers=headers)
    assert gpkg.status_code == 200
    path = tmp_path / "fov.gpkg"
    path.write_bytes(gpkg.content)
    info = pyogrio.read_info(path, layer="champs_de_vision")
    assert info["crs"] == "EPSG:4326" and info["features"] == 3
    with sqlite3.connect(path) as connection:  # a GeoPackage is an SQLite database
        assert connection.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    mairie = register.client.get(f"{BASE}/fov.geojson", headers=register.headers("mairie-27056"))
    assert [f["properties"]["camera_id"] for f in mairie.json()["features"]] == ["cam-a1"]


def test_the_alert_window_is_a_setting(database_url: str) -> None:
    """VIGIE_REGISTER_ALERT_MONTHS=5 alerts an authorisation ending in four and a half months."""
    with running_service(make_settings(database_url, register_alert_months=5)) as service:
        add_cameras(service.engine)
        service.client.app.dependency_overrides[get_now] = lambda: NOW
        create(service, number="LATER", granted_on="2021-08-02", ends_on="2026-08-01")
        attached = service.client.put(
            f"{BASE}/authorisations/1/cameras/cam-b1", headers=service.headers("engineer")
        )
        assert attached.status_code == 200, attached.text
        body = service.client.get(f"{BASE}/alerts", headers=service.headers("operator")).json()
        assert body["months"] == 5
        assert [(a["camera_id"], a["code"]) for a in body["alerts"]] == [("cam-b1", "expiring")]
