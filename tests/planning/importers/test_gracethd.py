"""import_gracethd on the community's demo delivery, on deliveries from other tools (case, DBF
names, separators, encodings, zip), and on broken ones."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from planning.importers.gracethd import import_gracethd
from planning.importers.gracethd_source import (
    MissingTableError,
    TableEncodingError,
    UnknownVersionError,
)
from planning.schema import LAYERS
from tests.helpers.gracethd import DEMO, copy_demo, read_csv_table, write_csv_table

pytestmark = pytest.mark.filterwarnings("ignore:Field .* created as String field:RuntimeWarning")

PM = "ND200180030502"
NRO = "ND000180030001"


@pytest.fixture(scope="module")
def demo():
    return import_gracethd(DEMO)


def _by_id(result, layer):
    return result.layers[layer].set_index("id")


def test_the_demo_maps_its_ftth_tree(demo):
    nodes = _by_id(demo, "ftth_nodes")
    assert nodes["kind"].value_counts().to_dict() == {"chamber": 6, "PBO": 3, "NRO": 1, "PM": 1}
    sites = read_csv_table(DEMO, "t_sitetech").set_index("st_nd_code")
    assert sites.loc[NRO, "st_typelog"] == "NRO" and nodes.loc[NRO, "kind"] == "NRO"
    assert sites.loc[PM, "st_typelog"] == "SRO" and nodes.loc[PM, "kind"] == "PM"
    # every PBO of the delivery is on the node of its point technique
    ptech = read_csv_table(DEMO, "t_ptech").set_index("pt_code")["pt_nd_code"]
    ebp = read_csv_table(DEMO, "t_ebp")
    pbo_nodes = {ptech[code] for code in ebp.loc[ebp["bp_typelog"] == "PBO", "bp_pt_code"]}
    assert set(nodes.index[nodes["kind"] == "PBO"]) == pbo_nodes
    assert set(nodes.loc[list(pbo_nodes), "parent"]) == {PM}
    assert nodes.loc[PM, "parent"] == NRO
    assert nodes.loc[NRO, "parent"] is None


def test_a_pbo_offers_the_free_fibres_of_the_cable_that_feeds_it(demo):
    nodes = _by_id(demo, "ftth_nodes")
    cables = read_csv_table(DEMO, "t_cable").set_index("cb_code")
    # CB000180030739 (36 fibres, 22 available) runs from chamber ND000180030072 to this PBO;
    # the splices in the chamber's closure say it leaves the chamber toward the PBO
    assert nodes.loc["ND000180030064", "free_fibres"] == int(
        cables.loc["CB000180030739", "cb_fo_disp"]
    )
    assert nodes.loc["ND000180031350", "free_fibres"] == int(
        cables.loc["CB000180030341", "cb_fo_disp"]
    )
    chambers = nodes[nodes["kind"] == "chamber"]
    assert (chambers["free_fibres"] == 0).all()


def test_owners_are_names_from_t_organisme(demo):
    nodes = _by_id(demo, "ftth_nodes")
    routes = _by_id(demo, "ftth_routes")
    assert nodes.loc["ND000180030065", "owner"] == "ORANGE"  # pt_prop OR900000000000
    assert nodes.loc[PM, "manager"] == "SMO"
    assert routes.loc["CM000180032598", "owner"] == "ORANGE"  # its conduits' cd_prop


def test_routes_kinds_follow_the_implantation_type(demo):
    routes = _by_id(demo, "ftth_routes")
    chemins = gpd.read_file(DEMO / "t_cheminement.shp").set_index("cm_code")
    expected = chemins["cm_typ_imp"].map({"7": "duct", "0": "aerial", "2": "aerial"})
    assert routes["kind"].to_dict() == expected.to_dict()
    assert routes.loc["CM900180034416", "kind"] == "aerial"  # FACADE
    for code, line in routes.geometry.items():
        assert line.equals_exact(chemins.geometry[code], 1e-6)


def test_spare_counts_the_empty_conduits(demo):
    routes = _by_id(demo, "ftth_routes")
    # the demo's conduits each hold a cable (cd_occup 20-100 %): none is empty, though two routes
    # say cm_cddispo 1; the report says they disagree
    assert (routes["spare"] == 0).all()
    assert any("disagrees" in note for note in demo.report.notes)


def test_the_report_says_what_was_left_out_and_why(demo):
    unmapped = {(u.table, u.source_id): u.reason for u in demo.report.unmapped}
    assert "subscriber terminal (PTO)" in unmapped[("t_ebp", "BP000180031091")]
    assert "subscriber site (SF)" in unmapped[("t_noeud", "ND000180031091")]
    assert "radio site (SE)" in unmapped[("t_noeud", "ND201180030502")]
    # jarretières are intrasite cables without ends: nothing places them
    assert "cannot be placed" in unmapped[("t_cable", "CB001800300071")]
    assert demo.report.codes() == {
        "gracethd.cable_unplaced": 27,
        "gracethd.pto": 21,
        "gracethd.subscriber_site": 15,
        "gracethd.radio_site": 1,
    }
    report = demo.report.to_dict()
    assert report["mapped"] == {"ftth_nodes": 11, "ftth_routes": 25}
    assert report["kinds"]["ftth_routes"] == {"duct": 15, "aerial": 10}
    assert any("BPE" in note for note in report["notes"])
    assert report["notes"][0].startswith("GraceTHD v2.0")


def test_layers_follow_the_planning_schema(demo):
    for name, layer in demo.layers.items():
        spec = LAYERS[name]
        assert {f.name for f in spec.fields} <= set(layer.columns)
        assert layer.crs.to_epsg() == 2154
        assert set(layer.geom_type) == {spec.geometry}
        assert layer["id"].is_unique
    assert set(demo.layers["ftth_nodes"]["kind"]) <= set(LAYERS["ftth_nodes"].field("kind").choices)


def test_area_keeps_what_lies_inside(demo):
    nodes = demo.layers["ftth_nodes"]
    pm = nodes.set_index("id").geometry[PM]
    area = box(pm.x - 50, pm.y - 50, pm.x + 50, pm.y + 50)
    result = import_gracethd(DEMO, area=area)
    inside = nodes[nodes.intersects(area)]
    assert 0 < len(result.layers["ftth_nodes"]) == len(inside) < len(nodes)
    assert set(result.layers["ftth_nodes"]["id"]) == set(inside["id"])
    assert result.layers["ftth_routes"].intersects(area).all()
    assert any("outside the area" in note for note in result.report.notes)


def test_a_zip_reads_like_the_folder(tmp_path: Path, demo):
    archive = tmp_path / "livraison.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in DEMO.iterdir():
            handle.write(path, f"REC-DSPE/{path.name}")
    from_zip = import_gracethd(archive)
    for name in ("ftth_nodes", "ftth_routes"):
        a = from_zip.layers[name].drop(columns="geometry")
        b = demo.layers[name].drop(columns="geometry")
        assert a.equals(b)


def test_names_in_upper_case_comma_separators_and_latin1(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    for path in list(folder.iterdir()):
        path.rename(folder / (path.stem.upper() + path.suffix.upper()))
    noeuds = gpd.read_file(folder / "T_NOEUD.SHP")
    noeuds.columns = [c.upper() if c != "geometry" else c for c in noeuds.columns]
    noeuds.to_file(folder / "T_NOEUD.SHP", engine="pyogrio")
    path = folder / "T_ORGANISME.CSV"
    organisations = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    smo = organisations["or_code"] == "OR900000000002"
    organisations.loc[smo, "or_nom"] = "Syndicat mixte Eure Numérique"
    organisations.columns = [c.upper() for c in organisations.columns]
    organisations.to_csv(path, sep=",", index=False, encoding="cp1252")

    result = import_gracethd(folder)
    nodes = _by_id(result, "ftth_nodes")
    assert nodes.loc[PM, "owner"] == "Syndicat mixte Eure Numérique"
    assert nodes.loc[PM, "kind"] == "PM"
    assert any("T_ORGANISME.CSV is not UTF-8" in note for note in result.report.notes)


def test_a_missing_table_is_named(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    for path in folder.glob("t_noeud.*"):
        path.unlink()
    with pytest.raises(MissingTableError, match=r"t_noeud.*t_noeud\.shp"):
        import_gracethd(folder)


def test_a_delivery_of_another_version_is_refused(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    noeuds = gpd.read_file(folder / "t_noeud.shp").rename(columns={"nd_code": "code"})
    noeuds.to_file(folder / "t_noeud.shp", engine="pyogrio")
    with pytest.raises(UnknownVersionError, match=r"t_noeud.*nd_code.*v2\.0\.x"):
        import_gracethd(folder)


def test_a_point_on_a_missing_node_is_reported(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    points = read_csv_table(folder, "t_ptech")
    points.loc[points["pt_code"] == "PT000180030065", "pt_nd_code"] = "ND999999999999"
    write_csv_table(folder, "t_ptech", points)
    result = import_gracethd(folder)
    reasons = {(u.table, u.source_id): u.reason for u in result.report.unmapped}
    assert "ND999999999999" in reasons[("t_ptech", "PT000180030065")]
    assert "not in t_noeud" in reasons[("t_ptech", "PT000180030065")]
    codes = {(u.table, u.source_id): u.code for u in result.report.unmapped}
    assert codes[("t_ptech", "PT000180030065")] == "gracethd.node_unknown"
    assert "ND000180030065" not in set(result.layers["ftth_nodes"]["id"])


def test_a_table_in_utf16_is_refused_by_name(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    text = (folder / "t_ebp.csv").read_text(encoding="utf-8")
    (folder / "t_ebp.csv").write_text(text, encoding="utf-16")
    with pytest.raises(TableEncodingError, match=r"t_ebp\.csv.*UTF-16"):
        import_gracethd(folder)


def test_routes_without_a_usable_implantation_are_skipped_with_the_reason(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    chemins = gpd.read_file(folder / "t_cheminement.shp")
    chemins.loc[chemins["cm_code"] == "CM000180032598", "cm_typ_imp"] = "4"
    chemins.loc[chemins["cm_code"] == "CM000180032599", "cm_typ_imp"] = None
    chemins.loc[chemins["cm_code"] == "CM000180032602", "cm_typ_imp"] = "X"
    chemins.to_file(folder / "t_cheminement.shp", engine="pyogrio")
    result = import_gracethd(folder)
    reasons = {u.source_id: u.reason for u in result.report.unmapped if u.table == "t_cheminement"}
    assert "PLEINE TERRE" in reasons["CM000180032598"]
    assert "no implantation type" in reasons["CM000180032599"]
    assert "'X'" in reasons["CM000180032602"]
    codes = {u.source_id: u.code for u in result.report.unmapped if u.table == "t_cheminement"}
    assert codes == {
        "CM000180032598": "gracethd.buried",
        "CM000180032599": "gracethd.no_implantation",
        "CM000180032602": "gracethd.unknown_implantation",
    }
    assert len(result.layers["ftth_routes"]) == 22


def test_progress_is_reported_per_step():
    seen: dict[str, tuple[int, int]] = {}
    import_gracethd(DEMO, progress=lambda step, done, total: seen.__setitem__(step, (done, total)))
    assert set(seen) == {"read", "nodes", "routes"}
    assert all(done == total > 0 for done, total in seen.values())


def test_without_cables_the_report_says_free_fibres_were_not_delivered(tmp_path: Path):
    folder = copy_demo(tmp_path / "demo")
    (folder / "t_cable.csv").unlink()
    result = import_gracethd(folder)
    nodes = result.layers["ftth_nodes"]
    assert len(nodes) == 11
    assert (nodes["free_fibres"] == 0).all() and nodes["parent"].isna().all()
    assert any("free fibres were not in the delivery" in n for n in result.report.notes)
    assert any(n.startswith("no t_cable in the delivery") for n in result.report.notes)
