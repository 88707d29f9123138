"""``GET /api/v1/incidents/{id}/map``: a cause's cameras, cables, closures and suspected section,
within the caller's scope, from causes opened by the real correlation (both databases)."""

from __future__ import annotations

from datetime import timedelta

from shapely.geometry import LineString, Point

from supervision.states import Policy
from tests.helpers.service import Service
from tests.helpers.supervision_data import T0, down, ok
from vigie import db
from vigie.models import Camera, Mast
from vigie.supervisor.causes import correlate
from vigie.supervisor.writer import store_batch

STEP = timedelta(seconds=30)
# A and B join at closure S12 (1.18, 49.00), then the PM (1.20, 49.00); F's cable goes through
# S7 to another PM; E was saved before positions existed (no cable, no lon/lat).
S12 = {"kind": "splice", "id": "S12", "label": "manchon S12", "lon": 1.18, "lat": 49.0}
PM = {"kind": "PM", "id": "PM-27056-03", "label": "PM 27056-03", "lon": 1.2, "lat": 49.0}
S7 = {"kind": "splice", "id": "S7", "label": "manchon S7", "lon": 1.13, "lat": 49.05}
PM4 = {"kind": "PM", "id": "PM-27229-04", "label": "PM 27229-04", "lon": 1.13, "lat": 49.08}
MASTS = {
    "A": ([S12, PM], [[1.15, 49.01], [1.17, 49.005], [1.18, 49.0], [1.19, 49.0], [1.2, 49.0]]),
    "B": ([S12, PM], [[1.15, 48.99], [1.18, 49.0], [1.2, 49.0]]),
    "E": ([{"kind": "PM", "id": "PM-27229-02", "label": "PM 27229-02"}], None),
    "F": ([S7, PM4], [[1.13, 49.03], [1.13, 49.05], [1.13, 49.08]]),
}
# camera -> (mast, commune, lon, lat)
CAMERAS = {
    "A-1": ("A", "27056", 1.15, 49.01),
    "A-2": ("A", "27056", 1.1501, 49.01),
    "B-1": ("B", "27681", 1.15, 48.99),
    "E-1": ("E", "27229", 1.10, 49.02),
    "E-2": ("E", "27229", 1.1001, 49.02),
    "F-1": ("F", "27229", 1.13, 49.03),
    "F-2": ("F", "27229", 1.1301, 49.03),
}


def _network(service: Service) -> None:
    with db.session_scope(db.session_factory(service.engine)) as session:
        for mast, (path, cable) in MASTS.items():
            session.add(Mast(id=mast, commune="27056", path=path, cable=cable))
        for camera_id, (mast, commune, lon, lat) in CAMERAS.items():
            session.add(
                Camera(
                    id=camera_id,
                    name=f"Caméra {camera_id}",
                    commune_code=commune,
                    latitude=lat,
                    longitude=lon,
                    host="127.0.0.1",
                    port=8000,
                    mast_id=mast,
                    created_at=T0,
                    updated_at=T0,
                )
            )
    sessions = db.session_factory(service.engine)
    for n in range(5):  # every camera down from step 1, together: one branch, two masts
        at = T0 + n * STEP
        results = [down(c, at) if n >= 1 else ok(c, at) for c in sorted(CAMERAS)]
        with db.session_scope(sessions) as session:
            store_batch(session, results, {c: Policy() for c in CAMERAS}, at)
            correlate(session, at, timedelta(seconds=30))


def _causes(service: Service) -> dict[str, dict]:
    items = service.client.get(
        "/api/v1/incidents?status=open&include_suppressed=true", headers=service.headers("admin")
    ).json()["items"]
    return {i["key"]: i for i in items}


def _map(service: Service, user: str, incident_id: int) -> dict:
    response = service.client.get(
        f"/api/v1/incidents/{incident_id}/map", headers=service.headers(user)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body


def _roles(body: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for feature in body["features"]:
        found.setdefault(feature["properties"]["role"], []).append(feature)
    return found


def test_a_branch_shows_its_cameras_cables_closures_and_the_suspected_section(
    service: Service,
) -> None:
    _network(service)
    incidents = _causes(service)
    branch = next(i for i in incidents.values() if i["kind"] == "branch")
    assert branch["cause"] == "coupure probable entre le manchon S12 et le PM 27056-03"
    found = _roles(_map(service, "operator", branch["id"]))
    cameras = {f["properties"]["camera_id"]: f for f in found["camera"]}
    assert set(cameras) == {"A-1", "A-2", "B-1"}
    assert cameras["B-1"]["geometry"] == {"type": "Point", "coordinates": [1.15, 48.99]}
    assert cameras["A-1"]["properties"].items() >= {"name": "Caméra A-1", "state": "down"}.items()
    assert sorted(f["properties"]["mast_id"] for f in found["cable"]) == ["A", "B"]
    assert [(f["properties"]["label"], f["geometry"]["coordinates"]) for f in found["splice"]] == [
        ("manchon S12", [1.18, 49.0])
    ]
    assert [f["properties"]["label"] for f in found["node"]] == ["PM 27056-03"]
    (suspect,) = found["suspect"]
    assert suspect["properties"].items() >= {"start": "manchon S12", "end": "PM 27056-03"}.items()
    line = LineString(suspect["geometry"]["coordinates"])
    assert Point(line.coords[0]).distance(Point(1.18, 49.0)) < 1e-5
    assert Point(line.coords[-1]).distance(Point(1.2, 49.0)) < 1e-5
    assert line.length > 0.019  # the whole S12 to PM stretch, nothing towards the masts

    # A commune user sees its cameras and their mast, not the other commune's.
    scoped = _roles(_map(service, "mairie-27056", branch["id"]))
    assert {f["properties"]["camera_id"] for f in scoped["camera"]} == {"A-1", "A-2"}
    assert [f["properties"]["mast_id"] for f in scoped["cable"]] == ["A"]
    other = _roles(_map(service, "epci-b", branch["id"]))
    assert [f["properties"]["camera_id"] for f in other["camera"]] == ["B-1"]

    # A camera incident folded under it: the camera alone.
    folded = next(
        i for i in incidents.values() if i["camera_id"] == "B-1" and i["kind"] == "camera"
    )
    alone = _map(service, "operator", folded["id"])
    assert [f["properties"]["role"] for f in alone["features"]] == ["camera"]


def test_a_mast_shows_its_cable_to_its_first_closure_and_old_rows_draw_nothing(
    service: Service,
) -> None:
    _network(service)
    causes = {tuple(i["cameras"]): i for i in _causes(service).values() if i["kind"] == "mast"}
    found = _roles(_map(service, "admin", causes[("F-1", "F-2")]["id"]))
    assert [f["properties"]["mast_id"] for f in found["cable"]] == ["F"]
    (suspect,) = found["suspect"]
    assert suspect["geometry"]["coordinates"][0] == [1.13, 49.03]  # from the mast ...
    assert Point(suspect["geometry"]["coordinates"][-1]).distance(Point(1.13, 49.05)) < 1e-5
    assert suspect["properties"]["end"] == "manchon S7"  # ... to its first closure
    # Saved without positions: the cameras only, and no error.
    old = _roles(_map(service, "admin", causes[("E-1", "E-2")]["id"]))
    assert set(old) == {"camera"} and len(old["camera"]) == 2
    # Outside the caller's scope it does not exist; AMO may not read incidents at all.
    hidden = service.client.get(
        f"/api/v1/incidents/{causes[('F-1', 'F-2')]['id']}/map",
        headers=service.headers("mairie-27056"),
    )
    assert hidden.status_code == 404
    refused = service.client.get(
        f"/api/v1/incidents/{causes[('F-1', 'F-2')]['id']}/map", headers=service.headers("amo")
    )
    assert refused.status_code == 403
