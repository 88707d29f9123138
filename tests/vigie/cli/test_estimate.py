"""`vigie estimate` run as a user would (subprocess): outputs, overrides, and refusals."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyogrio
import pytest

from planning.french import euros
from tests.helpers.cli import run, sample_folder
from tests.helpers.paths import REPO


def _totals(path: Path) -> dict[str, float]:
    return json.loads(path.read_text(encoding="utf-8"))["estimates"][0]["totals"]


def test_estimate_writes_xlsx_csv_and_json_with_the_same_totals(
    sample_plan: Path, tmp_path: Path
) -> None:
    for suffix in ("xlsx", "csv", "json"):
        result = run("estimate", str(sample_plan), "--out", str(tmp_path / f"dqe.{suffix}"))
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"dqe.{suffix}").is_file()
    assert "Lot 1 — Génie civil et réseau fibre" in result.stdout
    totals = _totals(tmp_path / "dqe.json")
    with (tmp_path / "dqe.csv").open(encoding="utf-8") as handle:
        rows = {r["cle"]: r for r in csv.DictReader(handle) if not r["numero"]}
    assert float(rows["total_ttc"]["montant_ht"]) == totals["total_ttc"]
    assert float(rows["aid_fipd"]["montant_ht"]) == totals["fipd"]
    assert float(rows["rest_ht"]["montant_ht"]) == totals["rest_ht"]
    assert rows["amo.contract"]["lot"] == "amo"  # a contract of its own, not a lot
    assert euros(totals["total_ht"], "HT") in result.stdout  # "3 115 442 € HT"
    assert f"{totals['total_ht']:,.0f}" not in result.stdout  # never "3,115,442"
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_prices_file_merges_over_the_defaults(sample_plan: Path, tmp_path: Path) -> None:
    run("estimate", str(sample_plan), "--out", str(tmp_path / "base.json"))
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "cameras:\n  ptz_2mp_30x: {price: 3000, year: 2026, source: 'devis 2026-03'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.json"
    result = run(
        "estimate",
        str(sample_plan),
        "--out",
        str(out),
        "--prices",
        str(prices),
        "--rate",
        "fipd=40",
    )
    assert result.returncode == 0, result.stderr
    base, changed = _totals(tmp_path / "base.json"), _totals(out)
    # 36 PTZ cameras in the sample, 500 € dearer each, plus the AMO's 14.8 % on top
    assert changed["lot_2_ht"] - base["lot_2_ht"] == 36 * 500
    assert round(changed["total_ht"] - base["total_ht"], 2) == round(36 * 500 * 1.148, 2)
    document = json.loads(out.read_text(encoding="utf-8"))["estimates"][0]
    assert document["rates"]["fipd_percent"] == 40
    asked = 0.0
    for owner in document["owners"]:
        fipd = next(a for a in owner["aids"] if a["funder"] == "fipd")
        kept = fipd["base"] if fipd["ceiling"] is None else min(fipd["base"], fipd["ceiling"])
        assert fipd["requested"] == (round(kept * 0.40, 2) if fipd["applies"] else 0)
        asked += fipd["amount"]
    assert changed["fipd"] == pytest.approx(asked, abs=0.005) and changed["fipd"] < base["fipd"]


def test_a_rate_over_the_calls_maximum_is_refused_and_writes_nothing(
    sample_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dqe.json"
    result = run("estimate", str(sample_plan), "--out", str(out), "--rate", "fipd=60")
    assert result.returncode != 0
    assert "fipd=60: the call allows 0 to 50 %" in result.stderr
    assert not out.exists()


def test_bad_catalogue_is_one_line_and_writes_nothing(sample_plan: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "trench:\n  local: {price: -3, year: 2026, source: x}\n"
        "masts:\n  '6': {price: null, year: 2026, source: x}\n",
        encoding="utf-8",
    )
    out = tmp_path / "dqe.xlsx"
    result = run("estimate", str(sample_plan), "--out", str(out), "--prices", str(prices))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "trench.local.price: -3 is negative" in result.stderr
    assert "masts.6.price: missing" in result.stderr
    assert str(prices) in result.stderr
    assert not out.exists()


def test_unknown_section_and_unsourced_price_are_refused(sample_plan: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("tranchee:\n  local: {price: 60}\n", encoding="utf-8")
    result = run(
        "estimate", str(sample_plan), "--out", str(tmp_path / "x.csv"), "--prices", str(prices)
    )
    assert result.returncode == 1
    assert "unknown section(s) tranchee" in result.stderr
    prices.write_text("trench:\n  local: {price: 60}\n", encoding="utf-8")
    result = run(
        "estimate", str(sample_plan), "--out", str(tmp_path / "x.csv"), "--prices", str(prices)
    )
    assert "trench.local: a new price needs its source and year" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_unknown_camera_model_names_it_and_writes_nothing(
    sample_plan: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(sample_plan, folder)
    masts = pyogrio.read_dataframe(folder / "plan.gpkg", layer="masts")
    masts.loc[masts["mast_id"] == "M-27017-001", "camera_model"] = "thermal_1mp"
    pyogrio.write_dataframe(masts, folder / "plan.gpkg", layer="masts")
    out = tmp_path / "dqe.xlsx"
    out.write_bytes(b"previous estimate")
    result = run("estimate", str(folder), "--out", str(out))
    assert result.returncode == 1
    assert "camera model 'thermal_1mp' of mast(s) M-27017-001 is not in the catalogue" in (
        result.stderr
    )
    assert out.read_bytes() == b"previous estimate"  # the previous file is untouched


def test_older_plan_folder_is_refused(sample_plan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(sample_plan, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    del summary["format"]
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    result = run("estimate", str(folder), "--out", str(tmp_path / "dqe.json"))
    assert result.returncode == 1
    assert "written by an older Vigie" in result.stderr
    assert "run `vigie plan` again" in result.stderr
    assert not (tmp_path / "dqe.json").exists()


def test_unknown_output_format(sample_plan: Path, tmp_path: Path) -> None:
    result = run("estimate", str(sample_plan), "--out", str(tmp_path / "dqe.ods"))
    assert result.returncode == 1
    assert "must end in .xlsx, .csv, .json" in result.stderr


def test_several_plans_give_a_comparison(sample_plan: Path, tmp_path: Path) -> None:
    import openpyxl

    result = run("estimate", str(sample_plan), str(sample_plan), "--out", str(tmp_path / "c.xlsx"))
    assert result.returncode == 0, result.stderr
    assert "comparaison" in openpyxl.load_workbook(tmp_path / "c.xlsx").sheetnames
    run("estimate", str(sample_plan), str(sample_plan), "--out", str(tmp_path / "c.json"))
    assert len(json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["estimates"]) == 2


def test_the_readme_prices_example_works(sample_plan: Path, tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## `vigie estimate`", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    prices = tmp_path / "prices.yaml"
    prices.write_text(example, encoding="utf-8")
    out = tmp_path / "dqe.json"
    result = run("estimate", str(sample_plan), "--out", str(out), "--prices", str(prices))
    assert result.returncode == 0, result.stderr
    estimate = json.loads(out.read_text(encoding="utf-8"))["estimates"][0]
    assert estimate["rates"]["amo_percent"] == 12
    lines = {line["key"]: line for line in estimate["lines"]}
    assert lines["trench.local"]["unit_price_ht"] == 65
    assert lines["electricity.link_cable"]["fipd_eligible"] is False


def test_a_plan_with_an_unreachable_mast_is_priced_and_says_so(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":  # 60 km north, beyond the sample's last road
            point = frame.loc[0, "geometry"]
            frame.loc[0, "geometry"] = type(point)(point.x, point.y + 60_000)
        return frame

    layers = sample_folder(tmp_path / "layers", edit)
    assert run("plan", str(layers), "--out", str(tmp_path / "plan"), "--no-bound").returncode == 3
    result = run("estimate", str(tmp_path / "plan"), "--out", str(tmp_path / "dqe.json"))
    assert result.returncode == 0, result.stderr
    estimate = json.loads((tmp_path / "dqe.json").read_text(encoding="utf-8"))["estimates"][0]
    assert estimate["figures"]["masts"] == 110
    assert estimate["figures"]["masts_connected"] == 109
    assert estimate["figures"]["cameras"] == 253  # the lost mast's camera is still bought
    assert any("sans liaison fibre" in note and "M-27017-001" in note for note in estimate["notes"])


def test_the_summary_prints_running_costs_and_the_tco_in_french(
    sample_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dqe.json"
    result = run("estimate", str(sample_plan), "--out", str(out))
    assert result.returncode == 0, result.stderr
    totals = _totals(out)
    years = totals["horizon_years"]
    assert "coûts d'exploitation par an (loyers et locations)" in result.stdout
    assert euros(totals["running_ht_per_year"], "HT") in result.stdout
    assert f"coût complet du projet sur {years} ans" in result.stdout
    assert euros(totals["tco_ht"], "HT") in result.stdout
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    assert totals["running_ht_per_year"] == summary["totals"]["running_eur_per_year"]
    assert totals["tco_ht"] == round(totals["total_ht"] + years * totals["running_ht_per_year"], 2)


def test_the_csv_carries_the_running_costs(sample_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "dqe.csv"
    assert run("estimate", str(sample_plan), "--out", str(out)).returncode == 0
    with out.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["lot"] == "exploitation"]
    lines = [r for r in rows if r["numero"]]
    totals = {r["cle"]: float(r["montant_ht"]) for r in rows if not r["numero"]}
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    yearly = summary["totals"]["running_eur_per_year"]
    assert sum(float(r["montant_ht"]) for r in lines) == pytest.approx(yearly, abs=0.01)
    assert totals["running_ht_per_year"] == pytest.approx(yearly, abs=0.01)
    assert "tco_ht" in totals
    assert {r["proprietaire"] for r in lines} >= {"Orange", "Enedis"}


def test_a_plan_from_before_the_rents_estimates_with_zero_running_costs(
    sample_plan: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(sample_plan / "summary.json", folder)
    for name, _ in pyogrio.list_layers(sample_plan / "plan.gpkg"):
        if name != "links":  # the layer the older plans lack
            frame = pyogrio.read_dataframe(sample_plan / "plan.gpkg", layer=name)
            pyogrio.write_dataframe(frame, folder / "plan.gpkg", layer=name)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for key in ("leased_links_access_eur", "running_eur_per_year", "tco_eur", "horizon_years"):
        summary["totals"].pop(key)
    summary["totals"].pop("running_eur_per_year_by_item")
    for key in ("links", "owners", "csu"):
        summary.pop(key)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    result = run("estimate", str(folder), "--out", str(tmp_path / "dqe.json"))
    assert result.returncode == 0, result.stderr
    assert "plan sans loyers : relancer vigie plan" in result.stdout
    estimate = json.loads((tmp_path / "dqe.json").read_text(encoding="utf-8"))["estimates"][0]
    assert estimate["totals"]["running_ht_per_year"] == 0
    assert estimate["totals"]["tco_ht"] == estimate["totals"]["total_ht"]
    assert any("version antérieure" in note for note in estimate["notes"])
    assert run("estimate", str(folder), "--out", str(tmp_path / "dqe.xlsx")).returncode == 0
