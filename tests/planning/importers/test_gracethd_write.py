"""write_gracethd: the sample's FttH network as a GraceTHD delivery following the published model,
and back through import_gracethd unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from planning.importers.gracethd import import_gracethd
from planning.importers.gracethd_model import TABLE_FIELDS
from planning.importers.gracethd_write import write_gracethd
from tests.helpers.gracethd import (
    MODEL_VERSIONS,
    model_codes,
    model_fields,
    model_geometry,
    model_references,
    read_csv_table,
    sample_network,
    write_csv_table,
)

CREATED = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
TOLERANCE_M = 0.01


@pytest.fixture(scope="module")
def network():
    return sample_network()


@pytest.fixture(scope="module")
def delivery(network, tmp_path_factory) -> Path:
    return write_gracethd(
        network, tmp_path_factory.mktemp("gracethd") / "livraison", created=CREATED
    )


@pytest.fixture(scope="module")
def back(delivery):
    return import_gracethd(delivery)


def _table(folder: Path, name: str) -> pd.DataFrame:
    if (folder / f"{name}.shp").exists():
        return pyogrio.read_dataframe(folder / f"{name}.shp")
    return read_csv_table(folder, name)


@pytest.mark.parametrize("version", MODEL_VERSIONS)
def test_every_table_has_the_model_s_fields_in_order(delivery, version):
    fields = model_fields(version)
    geometry = model_geometry(version)
    written = sorted(p.stem for p in delivery.glob("t_*.csv")) + sorted(
        p.stem for p in delivery.glob("t_*.shp")
    )
    assert set(written) == set(TABLE_FIELDS)
    for name in written:
        shapefile = delivery / f"{name}.shp"
        if shapefile.exists():
            info = pyogrio.read_info(shapefile)
            assert list(info["fields"]) == fields[name], name
            assert info["geometry_type"] == geometry[name], name
            assert info["crs"] == "EPSG:2154"
        else:
            header = (delivery / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
            assert header.split(";") == fields[name], name


@pytest.mark.parametrize("version", MODEL_VERSIONS)
def test_every_coded_value_is_in_the_model_s_code_list(delivery, version):
    checked = 0
    for table, field, code_list in model_references(version):
        if table not in TABLE_FIELDS:
            continue
        values = _table(delivery, table)[field]
        used = {str(v) for v in values if v is not None and str(v) != ""}
        assert used <= model_codes(version, code_list), (table, field, used)
        checked += len(used) > 0
    assert checked >= 15  # the writer does fill coded fields: statuses, types, implantation...


def test_references_between_tables_hold(delivery):
    nodes = set(_table(delivery, "t_noeud")["nd_code"])
    organisations = set(_table(delivery, "t_organisme")["or_code"])
    for table, field in [("t_sitetech", "st_nd_code"), ("t_ptech", "pt_nd_code")]:
        assert set(_table(delivery, table)[field]) <= nodes
    assert set(_table(delivery, "t_ebp")["bp_pt_code"]) <= set(
        _table(delivery, "t_ptech")["pt_code"]
    )
    cables = _table(delivery, "t_cable")
    assert set(cables["cb_nd1"]) | set(cables["cb_nd2"]) <= nodes
    links = _table(delivery, "t_cond_chem")
    assert set(links["dm_cd_code"]) == set(_table(delivery, "t_conduite")["cd_code"])
    assert set(links["dm_cm_code"]) <= set(_table(delivery, "t_cheminement")["cm_code"])
    for table, field in [("t_conduite", "cd_prop"), ("t_cable", "cb_gest"), ("t_ptech", "pt_prop")]:
        assert {v for v in _table(delivery, table)[field] if v} <= organisations


def test_round_trip_keeps_every_route(network, back):
    before = network["ftth_routes"].set_index("id")
    after = back.layers["ftth_routes"].set_index("id")
    assert set(after.index) == set(before.index)
    after = after.loc[before.index]
    assert (after["kind"] == before["kind"]).all()
    assert (after["spare"] == before["spare"]).all()
    for field in ("owner", "manager"):
        assert after[field].fillna("").tolist() == before[field].fillna("").tolist()
    distance = after.geometry.hausdorff_distance(before.geometry.set_crs(after.crs))
    assert distance.max() < TOLERANCE_M


def test_round_trip_keeps_every_node(network, back):
    before = network["ftth_nodes"].set_index("id")
    after = back.layers["ftth_nodes"].set_index("id")
    assert set(after.index) == set(before.index)
    after = after.loc[before.index]
    assert (after["kind"] == before["kind"]).all()
    for field in ("owner", "manager", "parent"):
        assert after[field].fillna("").tolist() == before[field].fillna("").tolist(), field
    assert before["parent"].notna().sum() > 2000  # the parents were carried, not left blank
    fibre_nodes = before["kind"] != "chamber"
    assert (after.loc[fibre_nodes, "free_fibres"] == before.loc[fibre_nodes, "free_fibres"]).all()
    # a chamber is civil works and holds no fibre, whatever the synthetic sample says
    assert (after.loc[~fibre_nodes, "free_fibres"] == 0).all()
    assert after.geometry.distance(before.geometry.set_crs(after.crs)).max() < TOLERANCE_M
    assert back.report.unmapped == []


def test_free_fibres_counted_fibre_by_fibre_when_the_cable_does_not_say(tmp_path: Path, network):
    nodes = network["ftth_nodes"]
    pbo = nodes[(nodes["kind"] == "PBO") & nodes["parent"].notna()].iloc[:1]
    parent = nodes[nodes["id"] == pbo["parent"].iloc[0]]
    small = {"ftth_nodes": pd.concat([pbo, parent]), "ftth_routes": network["ftth_routes"].iloc[:1]}
    folder = write_gracethd(small, tmp_path / "livraison")
    cable = f"CB-{pbo['id'].iloc[0]}"
    cables = read_csv_table(folder, "t_cable")
    cables.loc[cables["cb_code"] == cable, "cb_fo_disp"] = ""
    write_csv_table(folder, "t_cable", cables)
    fibres = [f"FO{n:03d}" for n in range(1, 13)]
    write_csv_table(
        folder,
        "t_fibre",
        pd.DataFrame(
            {
                "fo_code": fibres,
                "fo_cb_code": cable,
                "fo_nincab": range(1, 13),
                "fo_etat": ["HS"] + ["OK"] * 11,
            }
        ),
    )
    # 3 fibres on optical routes, 2 spliced, 1 waiting in the box (free), 1 broken (HS): 12-3-2-1
    write_csv_table(folder, "t_ropt", pd.DataFrame({"rt_code": "RT1", "rt_fo_code": fibres[1:4]}))
    write_csv_table(
        folder,
        "t_position",
        pd.DataFrame(
            {
                "ps_code": ["PS1", "PS2", "PS3"],
                "ps_1": [fibres[4], fibres[5], fibres[6]],
                "ps_2": ["", "", ""],
                "ps_fonct": ["EP", "EP", "AT"],
                "ps_preaff": ["", "", ""],
            }
        ),
    )
    result = import_gracethd(folder)
    free = result.layers["ftth_nodes"].set_index("id").loc[pbo["id"].iloc[0], "free_fibres"]
    assert free == 6
