"""Running costs and leased-link investment of the sample plan, against its summary.json."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import shutil
from pathlib import Path

import pytest

from cameras.catalogue import load_catalogue
from planning import parameters
from planning.export import write_plan
from planning.parameters import PlanParameters, RentParameters
from planning.pipeline import plan_layers
from planning.plan_folder import read_plan_folder
from planning.prices import load_prices
from planning.validate import validate_path
from tests.helpers.paths import SAMPLE
from vigie.estimate.dqe import build_estimate
from vigie.estimate.files import estimate_rows
from vigie.estimate.leases import OVERRIDDEN, SOURCES, rate_parameter, running_costs


@pytest.fixture(scope="module")
def folder(sample_plan: Path):
    return read_plan_folder(sample_plan)


@pytest.fixture(scope="module")
def estimate(folder):
    return build_estimate(folder, load_prices(), load_catalogue())


def test_running_lines_add_up_to_the_plans_yearly_total(folder, estimate) -> None:
    totals = folder.summary["totals"]
    running = estimate.running
    assert running.total == pytest.approx(totals["running_eur_per_year"], abs=0.01)
    assert running.total > 0
    by_item: dict[str, float] = {}
    for line in running.lines:
        by_item[line.item] = by_item.get(line.item, 0.0) + line.amount
        assert line.amount == round(line.quantity * line.unit_price, 2), line.number
        assert line.source and line.unit in ("m", "km", "u")
    for item, amount in totals["running_eur_per_year_by_item"].items():
        assert by_item.get(item, 0.0) == pytest.approx(amount, abs=0.01), item
    owners = {line.owner for line in running.lines if line.item.startswith("rent_")}
    assert owners == {row["owner"] for row in folder.summary["owners"]}
    links = [line for line in running.lines if line.key == "dark_fibre_eur_per_km_year"]
    assert len(links) == len(folder.summary["links"])


def test_tco_is_the_investment_plus_the_horizon_times_the_yearly_cost(estimate) -> None:
    years = estimate.running.horizon_years
    assert years == RentParameters().horizon_years
    assert estimate.tco_ht == pytest.approx(estimate.total_ht + years * estimate.running_ht)
    assert estimate.totals()["tco_ht"] == estimate.tco_ht


def test_per_commune_running_costs_cover_the_total(estimate) -> None:
    communes = estimate.running.by_commune
    assert communes and all(value > 0 for value in communes.values())
    assert sum(communes.values()) == pytest.approx(estimate.running_ht, abs=0.01 * len(communes))
    owners = estimate.running_by_owner  # each mast's running cost is rounded to the cent
    assert len(owners) == len(estimate.financing.owners)
    assert sum(owners.values()) == pytest.approx(estimate.running_ht, abs=0.01 * 110)


def test_leased_links_one_off_costs_are_dqe_lines(folder, estimate) -> None:
    lines = {line.key: line for line in estimate.lines}
    access, switch = lines["transport.link_access"], lines["transport.nro_switch"]
    assert access.number.startswith("1.") and switch.number.startswith("3.")
    assert access.quantity == len(folder.summary["links"])
    assert access.amount + switch.amount == folder.summary["totals"]["leased_links_access_eur"]
    assert sum(access.by_commune.values()) == pytest.approx(access.quantity)
    # The DQE prices the whole project; summary.json the fibre network: explained post by post.
    posts = {post.label: post for post in estimate.reconciliation}
    leased = posts["Frais d'accès des liens loués et commutateurs au NRO"]
    assert sum(estimate.lines[i].amount for i in leased.lines) == leased.plan
    assert sum(post.plan for post in estimate.reconciliation) == pytest.approx(
        estimate.plan_cost, abs=0.05
    )


def test_csv_rows_carry_the_running_costs(estimate) -> None:
    rows = [r for r in estimate_rows([estimate]) if r["lot"] == "exploitation"]
    lines = [r for r in rows if r["numero"]]
    assert [r["montant_ht"] for r in lines] == [line.amount for line in estimate.running.lines]
    totals = {r["cle"]: r["montant_ht"] for r in rows if not r["numero"]}
    assert totals["running_ht_per_year"] == estimate.running_ht
    assert totals["tco_ht"] == estimate.tco_ht
    assert {r["proprietaire"] for r in lines} >= {"Orange", "Enedis"}


def _docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass, read from its source."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out = {}
    for node, after in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr):
            out[node.target.id] = after.value.value  # type: ignore[union-attr]
    return out


def test_estimate_marks_follow_the_parameters_docstrings() -> None:
    docs = {**_docstrings(parameters.RentParameters), **_docstrings(parameters.CostParameters)}
    for name, source in SOURCES.items():
        assert source.estimate == docs[name].startswith("ESTIMATE"), name


@pytest.mark.parametrize(
    ("owner", "mode"),
    [
        ("Orange", "duct"),
        ("orange SA", "aerial"),
        ("Enedis", "aerial"),
        ("Enedis", "duct"),
        ("Eure Numérique", "duct"),
        (None, "aerial"),
        ("=HYPERLINK(1)", "duct"),
    ],
)
def test_rate_parameter_matches_the_planners_rate(owner, mode) -> None:
    rent = RentParameters()
    assert getattr(rent, rate_parameter(owner, mode)) == rent.duct_rate(owner, mode)


def test_an_overridden_rent_is_sourced_to_the_plan(folder) -> None:
    summary = json.loads(json.dumps(folder.summary))
    summary["parameters"]["rent"]["orange_duct_eur_per_m_year"] = 3.0
    lines = running_costs(summary).lines
    orange = next(line for line in lines if line.key == "orange_duct_eur_per_m_year")
    assert orange.unit_price == 3.0 and orange.source == OVERRIDDEN and not orange.estimate


def test_an_older_plan_has_no_running_cost_and_says_so(sample_plan: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(sample_plan, old)
    summary = json.loads((old / "summary.json").read_text(encoding="utf-8"))
    for key in ("running_eur_per_year", "running_eur_per_year_by_item", "tco_eur"):
        del summary["totals"][key]
    for key in ("links", "owners", "csu"):
        del summary[key]
    (old / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    estimate = build_estimate(read_plan_folder(old), load_prices(), load_catalogue())
    assert estimate.running.lines == [] and estimate.running_ht == 0
    assert estimate.tco_ht == estimate.total_ht
    assert not [line for line in estimate.lines if line.key.startswith("transport.")]
    assert any("version antérieure" in note for note in estimate.notes)


def test_a_passive_plan_counts_its_nro_csu_fibres_once(tmp_path: Path) -> None:
    """Without aggregation at the NRO, each mast leases its own pair to the CSU: the plan puts
    those rents in its routes' leased fibres; the estimate shows them per link, not twice."""
    report = validate_path(SAMPLE)
    params = PlanParameters.from_dict({"transport": {"aggregate_at_nro": False}})
    plan, _ = plan_layers(report.layers, params, bound=False)
    write_plan(
        plan,
        tmp_path,
        communes=report.layers["communes"],
        masts=report.layers["masts"],
        power_points=report.layers["power_points"],
        source=str(SAMPLE),
    )
    folder = read_plan_folder(tmp_path)
    estimate = build_estimate(folder, load_prices(), load_catalogue())
    totals = folder.summary["totals"]
    assert estimate.running_ht == pytest.approx(totals["running_eur_per_year"], abs=0.01)
    assert all(line.quantity >= 0 for line in estimate.running.lines)
    assert not [line for line in estimate.running.lines if line.key == "nro_hosting_eur_per_year"]
    assert "transport.nro_switch" not in {line.key for line in estimate.lines}
    owners = estimate.running_by_owner  # each mast's running cost is rounded to the cent
    assert sum(owners.values()) == pytest.approx(estimate.running_ht, abs=0.01 * 110)
