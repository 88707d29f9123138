"""The DQE workbook recalculated by a real spreadsheet engine (LibreOffice, headless).

The workbook holds formulas only; LibreOffice computes them on opening and saves the values, which
are then compared with the JSON of the same estimate. `.ci/run` installs LibreOffice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from cameras.catalogue import load_catalogue
from planning.plan_folder import read_plan_folder
from planning.prices import default_price_data, load_prices, merge_prices
from tests.helpers.libreoffice import named, recalculate
from vigie.estimate.calls import load_call, with_rates
from vigie.estimate.dqe import build_estimate
from vigie.estimate.programme import compare, load_envelope
from vigie.estimate.workbook import build_workbook


@pytest.fixture(scope="module")
def folder(sample_plan: Path):
    return read_plan_folder(sample_plan)


@pytest.fixture(scope="module")
def estimate(folder):
    return build_estimate(folder, load_prices(), load_catalogue())


NAMES = {
    "lot_1_ht": "lot_1_ht",
    "lot_2_ht": "lot_2_ht",
    "lot_3_ht": "lot_3_ht",
    "works_ht": "works_ht",
    "amo_ht": "amo_ht",
    "total_ht": "total_ht",
    "tva": "vat",
    "total_ttc": "total_ttc",
    "works_ttc": "works_ttc",
    "amo_ttc": "amo_ttc",
    "eligible_fipd": "eligible_fipd",
    "eligible_detr": "eligible_detr",
    "aid_fipd": "aid_fipd",
    "aid_detr": "aid_detr",
    "fipd": "fipd",
    "aids_ht": "aids_ht",
    "rest_ht": "rest_ht",
}


def test_libreoffice_totals_equal_the_json(estimate, tmp_path: Path) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = recalculate(path, tmp_path)
    totals = estimate.totals()
    for name, key in NAMES.items():
        assert named(book, name) == pytest.approx(totals[key], abs=0.005), name
    owners = book["par maître d'ouvrage"]
    rows = {r[1].value: r for r in owners.iter_rows(min_row=6) if r[1].value}
    for owner in estimate.financing.owners:
        row = [c.value for c in rows[owner.code]]
        assert row[7] == pytest.approx(owner.total_ht, abs=0.005), owner.code
        assert row[8] == pytest.approx(owner.cap, abs=0.005), owner.code
        for i, aid in enumerate(owner.aids):
            base, _kept, asked, after = row[10 + 5 * i : 14 + 5 * i]
            assert base == pytest.approx(aid.base, abs=0.005), (owner.code, aid.funder)
            assert asked == pytest.approx(aid.requested, abs=0.005), (owner.code, aid.funder)
            assert after == pytest.approx(aid.amount, abs=0.005), (owner.code, aid.funder)
        assert row[9 + 5 * len(owner.aids) + 1] == pytest.approx(owner.own_share, abs=0.005)
    comparison = compare(estimate, load_envelope())
    assert named(book, "programme_masts") == comparison.masts_affordable
    assert named(book, "programme_cameras") == comparison.cameras_affordable
    assert named(book, "programme_fipd") == pytest.approx(comparison.fipd_at_envelope, abs=0.005)
    fipd_envelope = named(book, "programme_fipd_envelope")
    assert fipd_envelope == pytest.approx(comparison.fipd_on_envelope, abs=0.005)
    assert named(book, "programme_masts_total") == comparison.masts_within_total
    amo = book["AMO"]
    assert amo["B6"].value == pytest.approx(estimate.amo.amount, abs=0.005)
    days = [r[3].value for r in amo.iter_rows(min_row=14) if isinstance(r[1].value, (int, float))]
    assert sum(days[:-1]) == pytest.approx(estimate.amo.days, abs=0.05)


def test_running_costs_and_tco_recalculated_equal_the_plan(
    folder, estimate, tmp_path: Path
) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = recalculate(path, tmp_path)
    totals = folder.summary["totals"]
    yearly = named(book, "running_ht_year")
    assert yearly == pytest.approx(totals["running_eur_per_year"], abs=0.01)
    assert named(book, "running_ttc_year") == pytest.approx(estimate.running_ttc, abs=0.005)
    years = named(book, "horizon_years")
    assert years == totals["horizon_years"]
    assert named(book, "tco_ht") == pytest.approx(
        named(book, "total_ht") + years * yearly, abs=0.005
    )
    assert named(book, "tco_ht") == pytest.approx(estimate.tco_ht, abs=0.01)
    sheet = book[f"Coût complet sur {years} ans"]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=15) if r[1].value}
    for owner in estimate.financing.owners:  # per owner: its investment plus N years of rents
        row = rows[owner.code]
        running = estimate.running_by_owner[(owner.kind, owner.code)]
        assert row[2].value == pytest.approx(owner.total_ht, abs=0.005)
        assert row[3].value == pytest.approx(running, abs=0.005)
        assert row[5].value == pytest.approx(row[2].value + years * running, abs=0.01)
    assert sum(estimate.running_by_owner.values()) == pytest.approx(estimate.running_ht, abs=0.5)
    total = next(r for r in sheet.iter_rows(min_row=15) if r[0].value == "Total")
    assert total[5].value == pytest.approx(estimate.tco_ht, abs=0.01)
    leased = next(
        r for r in sheet.iter_rows() if r[0].value and str(r[0].value).startswith("Frais d'accès")
    )
    assert leased[1].value == leased[2].value == totals["leased_links_access_eur"]


def test_an_edited_rent_carries_through_the_tco(estimate, tmp_path: Path) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = openpyxl.load_workbook(path)
    sheet = book["Coûts d'exploitation"]
    row = next(r for r in sheet.iter_rows(min_row=6) if r[2].value == "Orange")
    quantity, price = row[4].value, row[5].value
    row[5].value = price + 1.0  # the real offer: one euro more per metre and year
    book.save(path)
    values = recalculate(path, tmp_path)
    years = estimate.running.horizon_years
    assert named(values, "running_ht_year") == pytest.approx(
        estimate.running_ht + quantity, abs=0.01
    )
    assert named(values, "tco_ht") == pytest.approx(estimate.tco_ht + years * quantity, abs=0.1)


def test_an_edited_quantity_carries_through_every_total(estimate, tmp_path: Path) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = openpyxl.load_workbook(path)
    sheet = book["DQE"]
    number = next(line.number for line in estimate.lines if line.key == "masts.6")
    row = next(r for r in sheet.iter_rows(min_row=6) if r[0].value == number)
    price = row[4].value
    row[3].value += 10  # ten more masts of that height
    book.save(path)
    values = recalculate(path, tmp_path)
    delta = 10 * price
    amo = estimate.amo.rate / 100
    assert named(values, "lot_2_ht") == pytest.approx(estimate.lots[1].subtotal + delta, abs=0.01)
    assert named(values, "amo_ht") == pytest.approx(estimate.amo.amount + delta * amo, abs=0.01)
    assert named(values, "total_ht") == pytest.approx(
        estimate.total_ht + delta * (1 + amo), abs=0.02
    )
    finance = values["financement"]
    fipd_row = next(r for r in finance.iter_rows() if str(r[0].value).startswith("FIPD"))
    eligible = estimate.financing.eligible_totals["fipd"]
    assert fipd_row[4].value == pytest.approx(eligible + delta, abs=0.01)  # masts are eligible
    # more base, but owners at the per-camera ceiling keep their aid: up to rate x delta more
    grown = named(values, "fipd") - estimate.fipd
    assert 0 < grown <= delta * 0.5 + 0.5
    owners = values["par maître d'ouvrage"]
    total = owners.cell(6 + len(estimate.financing.owners), 8).value
    assert total == pytest.approx(estimate.total_ht + delta * (1 + amo), abs=0.01 * 60)


def test_an_edited_rate_gives_the_same_aid_as_the_estimate_at_that_rate(
    folder, estimate, tmp_path: Path
) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = openpyxl.load_workbook(path)
    finance = book["financement"]
    row = next(r for r in finance.iter_rows() if str(r[0].value).startswith("FIPD"))
    row[2].value = 40  # the owner asks 40 % instead of 50 %
    book.save(path)
    values = recalculate(path, tmp_path)
    call = with_rates(load_call(), {"fipd": 40})
    at_40 = build_estimate(folder, load_prices(), load_catalogue(), call)
    assert named(values, "fipd") == pytest.approx(at_40.fipd, abs=0.005)
    assert named(values, "aids_ht") == pytest.approx(at_40.aids, abs=0.005)
    assert named(values, "rest_ht") == pytest.approx(at_40.rest_ht, abs=0.005)
    assert at_40.fipd < estimate.fipd


def test_sheets_are_french_and_the_chart_is_there(estimate, tmp_path: Path) -> None:
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate]).save(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "DQE",
        "AMO",
        "financement",
        "par maître d'ouvrage",
        "éligibilité",
        "Coûts d'exploitation",
        "Coût complet sur 10 ans",
        "programme",
        "hypothèses et sources",
    ]
    assert book["DQE"]["F7"].value.startswith("=ROUND(")  # amounts are formulas
    with zipfile.ZipFile(path) as archive:
        assert any(n.startswith("xl/charts/chart") for n in archive.namelist())
    rules = [c.value for c in book["éligibilité"]["G"] if c.value]  # the FIPD's rule per line
    assert any(r.startswith("exclu : études") for r in rules)
    assert any(r.startswith("exclu : dépenses de fonctionnement") for r in rules)
    sources = [c.value for c in book["hypothèses et sources"]["F"] if c.value]
    assert any("CETE de l'Ouest" in s for s in sources)
    assert any("Enedis" in s for s in sources)


def test_several_plans_compare_side_by_side(folder, estimate, tmp_path: Path) -> None:
    dearer = merge_prices(
        default_price_data(),
        {"trench": {"local": {"price": 120, "year": 2025, "source": "centre-bourg"}}},
    )
    other = build_estimate(folder, load_prices(dearer), load_catalogue())
    path = tmp_path / "dqe.xlsx"
    build_workbook([estimate, other]).save(path)
    book = recalculate(path, tmp_path)
    assert "comparaison" in book.sheetnames and "DQE 2" in book.sheetnames
    sheet = book["comparaison"]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=5) if r[0].value}
    for column, expected in ((1, estimate), (2, other)):
        assert rows["Total HT"][column].value == pytest.approx(expected.total_ht, abs=0.005)
        assert rows["Total TTC"][column].value == pytest.approx(expected.total_ttc, abs=0.005)
        assert rows["Aide FIPD sollicitée"][column].value == pytest.approx(expected.fipd, abs=0.005)
    assert rows["Total HT"][2].value > rows["Total HT"][1].value
