"""GET /api/v1/communes: the sample's boundaries in WGS84, named from the referential, scoped."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers.service import EPCI_B, Service, make_settings, password_hash, seed
from vigie import db
from vigie.api import create_app
from vigie.clock import utcnow
from vigie.models import User


def test_every_role_gets_the_boundaries_in_wgs84(service: Service) -> None:
    response = service.client.get("/api/v1/communes", headers=service.headers("amo"))
    assert response.status_code == 200
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    drawn = {f["properties"]["code"] for f in collection["features"] if f["geometry"]}
    assert len(drawn) == 74  # the Eure sample's communes layer
    # The referential's communes outside the layer are named, without a geometry.
    bare = {
        f["properties"]["code"]: f["properties"]
        for f in collection["features"]
        if f["geometry"] is None
    }
    assert set(bare) == {"27056", "27681"}
    assert bare["27681"]["epci"] == EPCI_B
    evreux = next(f for f in collection["features"] if f["properties"]["code"] == "27229")
    # The referential of the database names it (tests.helpers.service.seed), not the sample.
    assert evreux["properties"]["nom"] == "Commune 27229"
    assert evreux["properties"]["epci_nom"] == "EPCI A"
    ring = evreux["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lon, lat = ring[0]
    assert 0.7 < lon < 1.9 and 48.6 < lat < 49.5, "not WGS84 over the Eure"


def test_a_commune_user_gets_only_its_communes(service: Service) -> None:
    with db.session_scope(db.session_factory(service.engine)) as session:
        session.add(
            User(
                username="mairie-evreux",
                role="commune",
                password_hash=password_hash(),
                scope_communes=["27229"],
                scope_epcis=[],
                created_at=utcnow(),
            )
        )
    response = service.client.get("/api/v1/communes", headers=service.headers("mairie-evreux"))
    assert response.status_code == 200
    assert [f["properties"]["code"] for f in response.json()["features"]] == ["27229"]
    # Scoped to an EPCI whose communes the sample does not draw: named, nothing drawn.
    response = service.client.get("/api/v1/communes", headers=service.headers("epci-b"))
    features = response.json()["features"]
    assert [(f["properties"]["code"], f["geometry"]) for f in features] == [("27681", None)]


def test_an_unreadable_layer_is_a_clear_503_without_the_path(
    database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a geopackage", encoding="utf-8")
    settings = make_settings(database_url, communes_geometry=broken)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    with TestClient(create_app(settings)) as client:
        service = Service(client=client, settings=settings, engine=engine)
        response = client.get("/api/v1/communes", headers=service.headers("operator"))
    engine.dispose()
    assert response.status_code == 503
    assert "broken.gpkg" not in response.text
    assert response.json()["detail"] == "the commune boundaries are unavailable (see the logs)"
