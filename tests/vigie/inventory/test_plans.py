"""``vigie cameras import PLAN``: one camera per camera of each mast of the Eure sample's plan."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gis_data import data_path
from tests.helpers.cli import run
from tests.helpers.paths import SAMPLE
from vigie import db
from vigie.credentials import KeyRing, generate_key, open_camera_password
from vigie.inventory.cameras import CameraImportError
from vigie.inventory.communes import load_referential, read_referential
from vigie.inventory.plans import plan_inventory
from vigie.models import AuditEvent, Camera, Mast
from vigie.settings import load_settings


def _masts(plan: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(plan / "plan.gpkg", layer="masts")


def test_the_sample_plan_gives_one_camera_per_camera_of_each_mast(sample_plan: Path) -> None:
    masts = _masts(sample_plan)
    rows = plan_inventory(
        sample_plan, host="127.0.0.1", first_port=20000, username="u", password=""
    )
    assert len(rows) == int(masts["cameras"].sum()) > len(masts)
    assert [r.port for r in rows] == list(range(20000, 20000 + len(rows)))
    ids = [r.id for r in rows]
    assert len(set(ids)) == len(ids)
    # Stable order: masts by id, cameras by number.
    assert ids == sorted(ids, key=lambda i: (i.rsplit("-", 1)[0], int(i.rsplit("-", 1)[1])))
    first = masts.sort_values("mast_id").iloc[0]
    mine = [r for r in rows if r.id.startswith(f"{first['mast_id']}-")]
    assert len(mine) == first["cameras"]
    position = gpd.GeoSeries([first.geometry], crs=masts.crs).to_crs("EPSG:4326").iloc[0]
    assert mine[0].latitude == pytest.approx(position.y, abs=1e-6)
    assert mine[0].longitude == pytest.approx(position.x, abs=1e-6)
    assert mine[0].commune == first["commune"] and mine[0].critical == bool(first["critical"])
    assert mine[0].model == first["camera_model"] != ""
    assert sum(r.critical for r in rows) == int(masts.loc[masts["critical"], "cameras"].sum()) > 0


def test_the_planning_geopackage_gives_the_same_cameras(sample_plan: Path) -> None:
    from_plan = plan_inventory(sample_plan, host="h", first_port=1000, username="", password="")
    from_input = plan_inventory(SAMPLE, host="h", first_port=1000, username="", password="")
    assert [(r.id, r.port, r.model, r.critical) for r in from_input] == [
        (r.id, r.port, r.model, r.critical) for r in from_plan
    ]


def test_every_bad_mast_is_reported_and_nothing_imported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame(
        {
            "id": ["M-1", "M-1", "M 3", "M-4", "M-5"],
            "commune": ["27056", "27056", "27056", "Evreux", "27056"],
            "cameras": [1, 2, 1, 1, 0],
            "camera_model": ["fixed_4mp", "fixed_4mp", "fixed_4mp", "fixed_4mp", "no_such"],
            "critical": [False] * 5,
        },
        geometry=[Point(560000, 6880000)] * 5,
        crs="EPSG:2154",
    ).to_file(bad, layer="masts")
    with pytest.raises(CameraImportError) as raised:
        plan_inventory(bad, host="h", first_port=65535, username="", password="")
    problems = raised.value.problems
    assert "masts:M-1: mast M-1 given twice" in problems
    assert any(p.startswith("masts:M 3: mast id 'M 3'") for p in problems)
    assert "masts:M-4: commune 'Evreux' is not an INSEE code" in problems
    assert "masts:M-5: cameras 0 must be an integer >= 1" in problems
    assert "masts:M-5: camera_model 'no_such' is not in the camera catalogue" in problems
    assert len(problems) == 5  # M-1 (first) alone is good and gets port 65535
    with pytest.raises(CameraImportError, match="not a plan folder"):
        plan_inventory(tmp_path, host="h", first_port=1, username="", password="")


def test_cli_imports_the_plan_with_a_password_file(
    tmp_path: Path, engine: Engine, database_url: str, sample_plan: Path
) -> None:
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        load_referential(session, read_referential(data_path("sources", "communes-27-admin.json")))
    keys = generate_key()
    env = {"VIGIE_DATABASE_URL": database_url, "VIGIE_CREDENTIALS_KEYS": keys}
    secret = tmp_path / "password"
    secret.write_text("s1mulated-Pass\n", encoding="utf-8")
    args = ("cameras", "import", str(sample_plan), "--host", "127.0.0.1", "--first-port", "30900")
    no_host = run("cameras", "import", str(sample_plan), env=env)
    assert no_host.returncode == 1 and "--host" in no_host.stderr
    result = run(*args, "--username", "admin", "--password-file", str(secret), env=env)
    assert result.returncode == 0, result.stderr
    expected = int(_masts(sample_plan)["cameras"].sum())
    assert f"{expected} caméra(s) créée(s), 0 mise(s) à jour" in result.stdout
    assert "s1mulated-Pass" not in result.stdout + result.stderr
    ring = KeyRing.from_settings(load_settings(credentials_keys=keys))
    with db.session_scope(db.session_factory(engine)) as session:
        cameras = session.scalars(select(Camera).order_by(Camera.port)).all()
        assert len(cameras) == expected
        assert cameras[0].port == 30900 and cameras[-1].port == 30900 + expected - 1
        first = cameras[0]
        assert first.password_encrypted and "s1mulated" not in first.password_encrypted
        assert open_camera_password(ring, first) == "s1mulated-Pass"
        assert any(c.critical for c in cameras)
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "camera.import"))
        assert event.object_type == "plan"
        # Topology for correlation: each camera's mast, each mast's path to its FttH node.
        assert all(c.id.rsplit("-", 1)[0] == c.mast_id for c in cameras)
        masts = {m.id: m.path for m in session.scalars(select(Mast))}
        assert set(masts) == {c.mast_id for c in cameras}
        assert json.loads(event.detail)["masts"] == len(masts)
        assert any(len(path) > 1 and path[0]["kind"] == "splice" for path in masts.values())
    again = run(*args, "--username", "admin", "--password-file", str(secret), env=env)
    assert f"0 caméra(s) créée(s), {expected} mise(s) à jour" in again.stdout
