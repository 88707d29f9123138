"""``PUT /api/v1/cameras/{id}/mast``: engineers put cameras on masts and draw the mast's path."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.helpers.service import Service
from tests.helpers.supervision_data import add_cameras
from vigie import db
from vigie.models import AuditEvent, Mast

PATH = [
    {"kind": "splice", "id": "S12", "label": "manchon S12"},
    {"kind": "PM", "id": "PM-27056-03", "label": "PM 27056-03"},
]


def test_engineers_set_the_mast_and_its_path_audited(service: Service) -> None:
    add_cameras(service.engine)
    put = service.client.put(
        "/api/v1/cameras/cam-a1/mast",
        json={"mast_id": "M-1", "path": PATH},
        headers=service.headers("engineer"),
    )
    assert put.status_code == 200, put.text
    assert put.json()["mast_id"] == "M-1"
    read = service.client.get("/api/v1/cameras/cam-a1", headers=service.headers("operator"))
    assert read.json()["mast_id"] == "M-1"
    with db.session_scope(db.session_factory(service.engine)) as session:
        assert session.get(Mast, "M-1").path == PATH
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "camera.mast"))
        detail = json.loads(event.detail)
        assert detail == {"mast": "M-1", "previous": None, "path": ["S12", "PM-27056-03"]}
    cleared = service.client.put(
        "/api/v1/cameras/cam-a1/mast", json={"mast_id": None}, headers=service.headers("admin")
    )
    assert cleared.status_code == 200 and "mast_id" not in cleared.json()


def test_others_may_not_and_bad_paths_are_refused(service: Service) -> None:
    add_cameras(service.engine)
    for user in ("operator", "gendarme", "amo"):
        response = service.client.put(
            "/api/v1/cameras/cam-a1/mast", json={"mast_id": "M-1"}, headers=service.headers(user)
        )
        assert response.status_code == 403, user
    bad = service.client.put(
        "/api/v1/cameras/cam-a1/mast",
        json={"mast_id": "M-1", "path": [{"kind": "chamber", "id": "C1", "label": "chambre"}]},
        headers=service.headers("engineer"),
    )
    assert bad.status_code == 422
