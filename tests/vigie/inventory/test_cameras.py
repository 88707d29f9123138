"""The inventory import: every bad row named, nothing half-imported, passwords encrypted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tests.helpers.inventory_csv import GOOD, HEADER
from tests.helpers.service import seed
from tests.helpers.supervision_data import T0
from vigie import db
from vigie.credentials import KeyRing, generate_key, open_camera_password
from vigie.inventory.cameras import CameraImportError, import_cameras, read_inventory
from vigie.models import Camera
from vigie.settings import parse_key_ring


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_csv_row_is_reported_by_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cams.csv",
        HEADER
        + GOOD
        + "cam 3,X,27056,49,1,h,80,,,\n"  # line 4: bad id
        + "cam-4,,2705,91,abc,h,70000,,,NoSuchModel\n"  # line 5: five problems
        + "cam-1,Again,27056,49,1,h,80,,,\n",  # line 6: duplicate id
    )
    with pytest.raises(CameraImportError) as caught:
        read_inventory(path)
    problems = caught.value.problems
    assert problems[0].startswith("line 4 (camera cam 3): id 'cam 3'")
    line5 = [p for p in problems if p.startswith("line 5 (camera cam-4)")]
    assert len(line5) == 6, line5  # name, commune, latitude, longitude, port, model
    assert "line 6: camera cam-1 already given at line 2" in problems
    assert str(caught.value).startswith(f"{len(problems)} problem(s), nothing imported:\n{path}:")


def test_geojson_features_and_their_problems(tmp_path: Path) -> None:
    def feature(props: dict, geometry: dict | None) -> dict:
        return {"type": "Feature", "properties": props, "geometry": geometry}

    props = {"id": "cam-g", "name": "Gare", "commune": "27229", "host": "10.0.0.9", "port": 554}
    good = {
        "type": "FeatureCollection",
        "features": [feature(props, {"type": "Point", "coordinates": [1.1, 49.0]})],
    }
    rows = read_inventory(write(tmp_path, "cams.geojson", json.dumps(good)))
    assert [(r.id, r.latitude, r.longitude, r.port) for r in rows] == [("cam-g", 49.0, 1.1, 554)]
    bad = {
        "type": "FeatureCollection",
        "features": [
            feature(props, {"type": "LineString", "coordinates": [[1, 49], [2, 49]]}),
            feature({**props, "colour": "red"}, {"type": "Point", "coordinates": [1.1, 49.0]}),
        ],
    }
    with pytest.raises(CameraImportError) as caught:
        read_inventory(write(tmp_path, "bad.geojson", json.dumps(bad)))
    assert caught.value.problems == [
        "feature 1: geometry must be a Point (longitude, latitude)",
        "feature 2: unknown propertie(s) colour",
    ]


def test_import_writes_all_or_nothing_and_encrypts(tmp_path: Path, engine: Engine) -> None:
    seed(engine)
    keys = KeyRing(parse_key_ring(generate_key()))
    factory = db.session_factory(engine)
    unknown_commune = write(tmp_path, "a.csv", HEADER + GOOD + "cam-9,X,99999,49,1,h,80,,,\n")
    with (
        pytest.raises(CameraImportError, match=r"line 4 \(camera cam-9\): commune 99999"),
        db.session_scope(factory) as session,
    ):
        import_cameras(session, unknown_commune, read_inventory(unknown_commune), keys=keys, now=T0)
    with db.session_scope(factory) as session:
        assert session.scalars(select(Camera)).all() == []
    path = write(tmp_path, "b.csv", HEADER + GOOD)
    with db.session_scope(factory) as session:
        summary = import_cameras(session, path, read_inventory(path), keys=keys, now=T0)
    assert (summary.created, summary.updated) == (2, 0)
    with db.session_scope(factory) as session:
        camera = session.get(Camera, "cam-1")
        assert camera is not None and "s3cret-pass" not in camera.password_encrypted
        assert open_camera_password(keys, camera) == "s3cret-pass"
        assert session.get(Camera, "cam-2").port == 8080
    renamed = write(tmp_path, "c.csv", HEADER + GOOD.replace("Mairie", "Hôtel de ville"))
    with (
        pytest.raises(CameraImportError, match="needs VIGIE_CREDENTIALS_KEYS"),
        db.session_scope(factory) as session,
    ):
        import_cameras(session, renamed, read_inventory(renamed), keys=None, now=T0)
    with db.session_scope(factory) as session:
        summary = import_cameras(session, renamed, read_inventory(renamed), keys=keys, now=T0)
    assert (summary.created, summary.updated) == (0, 2)
    with db.session_scope(factory) as session:
        assert session.get(Camera, "cam-1").name == "Hôtel de ville"


def test_a_row_moving_a_camera_needs_its_password_again(tmp_path: Path, engine: Engine) -> None:
    seed(engine)
    keys = KeyRing(parse_key_ring(generate_key()))
    factory = db.session_factory(engine)
    first = write(tmp_path, "a.csv", HEADER + GOOD)
    with db.session_scope(factory) as session:
        import_cameras(session, first, read_inventory(first), keys=keys, now=T0)
    # cam-1 (a password stored) to another port without it; cam-2 (none stored) moves freely.
    moved = GOOD.replace("10.0.0.1,80,admin,s3cret-pass", "10.0.0.1,8081,admin,")
    moved = moved.replace("10.0.0.2,8080", "10.0.0.3,8080")
    path = write(tmp_path, "b.csv", HEADER + moved)
    with (
        pytest.raises(CameraImportError) as caught,
        db.session_scope(factory) as session,
    ):
        import_cameras(session, path, read_inventory(path), keys=keys, now=T0)
    assert caught.value.problems == [
        "line 2 (camera cam-1): moves the camera from its address to 10.0.0.1:8081 without its "
        "password: give the password again (a password is only ever sent to the address it was "
        "given for)"
    ]
    # With the password, the camera moves and its password is stored for the new address.
    given = write(
        tmp_path,
        "c.csv",
        HEADER.replace("\n", ",basic_auth\n")
        + ("cam-1,Mairie,27056,49.02,1.15,10.0.0.1,8081,admin,s3cret-pass,,oui\n"),
    )
    with db.session_scope(factory) as session:
        import_cameras(session, given, read_inventory(given), keys=keys, now=T0)
    with db.session_scope(factory) as session:
        camera = session.get(Camera, "cam-1")
        assert camera.port == 8081 and camera.basic_auth is True
        assert open_camera_password(keys, camera) == "s3cret-pass"


def test_an_optional_mast_id_column_puts_cameras_on_masts(tmp_path) -> None:
    from vigie.inventory.cameras import read_inventory

    path = tmp_path / "inventory.csv"
    path.write_text(
        "id,name,commune,latitude,longitude,host,mast_id\n"
        "cam-1,Un,27056,49.0,1.15,10.0.0.1,M-1\n"
        "cam-2,Deux,27056,49.0,1.15,10.0.0.2,\n",
        encoding="utf-8",
    )
    assert [(r.id, r.mast_id) for r in read_inventory(path)] == [("cam-1", "M-1"), ("cam-2", None)]
