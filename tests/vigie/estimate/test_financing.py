"""Financing under a call for projects, on small hand-made projects whose figures are known."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.errors import ConfigurationError
from vigie.estimate.calls import (
    CATEGORIES,
    category_of,
    load_call,
    parse_rates,
    with_rates,
)
from vigie.estimate.financing import RESERVED, MastOwner, Priced, finance

COMMUNES = {"27229": ("Évreux", "200071454"), "27602": ("Saint-Sébastien", "200071454")}
EPCIS = {"200071454": "Évreux Portes de Normandie"}
LPR = "Code de la sécurité intérieure, art. L233-1"


def mast(mast_id: str, commune: str = "27229", owner: str = "commune", cameras: int = 1, **kw):
    return MastOwner(
        mast_id, commune, owner, cameras, kw.get("model", "dome_4mp"), kw.get("reserved", "")
    )


def line(key: str, amount: float, by_mast: dict[str, float], number: str = "1.01") -> Priced:
    return Priced(number, key, key, amount, by_mast)


NO_AMO = Priced("AMO", "amo.contract", "AMO", 0.0, {})


def plan(lines, masts, amo=NO_AMO, rates=None):
    call = with_rates(load_call(), rates or {"detr": 0})
    return finance(call, lines, amo, masts, COMMUNES, epci_names=EPCIS)


def owner(financing, kind: str, code: str):
    return next(o for o in financing.owners if (o.kind, o.code) == (kind, code))


def aid(owner_plan, funder: str):
    return next(a for a in owner_plan.aids if a.funder == funder)


def test_the_per_camera_ceiling_caps_the_fipd_base() -> None:
    financing = plan([line("cameras.dome_4mp", 40_000.0, {"A": 1})], [mast("A", cameras=2)])
    evreux = owner(financing, "commune", "27229")
    fipd = aid(evreux, "fipd")
    assert (fipd.base, fipd.ceiling) == (40_000.0, 30_000.0)  # 2 cameras x 15 k€
    assert fipd.requested == fipd.amount == 15_000.0  # 50 % of the ceiling, not of the base
    assert evreux.own_share == 25_000.0


def test_public_aid_is_capped_at_80_percent_the_last_funder_losing_the_excess() -> None:
    financing = plan(
        [line("cameras.dome_4mp", 10_000.0, {"A": 1})], [mast("A")], rates={"detr": 40}
    )
    evreux = owner(financing, "commune", "27229")
    assert aid(evreux, "fipd").amount == 5_000.0
    detr = aid(evreux, "detr")
    assert (detr.requested, detr.amount) == (4_000.0, 3_000.0)
    assert evreux.cap == 8_000.0 and evreux.capped
    assert evreux.own_share == 2_000.0  # CGCT L1111-10: at least 20 %


def test_studies_amo_and_licences_stay_out_of_the_fipd_but_count_in_the_cost() -> None:
    lines = [
        line("cameras.dome_4mp", 10_000.0, {"A": 1}),
        line("installation.supervision_licence", 1_000.0, {"A": 1}, "3.01"),
    ]
    amo = Priced("AMO", "amo.contract", "AMO", 1_100.0, {})
    financing = plan(lines, [mast("A")], amo=amo, rates={"detr": 20})
    evreux = owner(financing, "commune", "27229")
    assert evreux.total_ht == 12_100.0
    assert aid(evreux, "fipd").base == 10_000.0
    # the DETR takes the AMO (studies tied to the works) but not the licences
    assert aid(evreux, "detr").base == 11_100.0
    rules = {r.funder: r for r in financing.lines[1].rules}
    assert not rules["fipd"].eligible and rules["fipd"].rule.startswith("exclu : licences")
    assert category_of("installation.supervision_licence") == "licences"
    assert not next(r for r in financing.amo_rules if r.funder == "fipd").eligible


def test_a_state_reserved_camera_on_a_commune_mast_is_in_no_local_plan() -> None:
    masts = [mast("A"), mast("L", model="lpr_2mp", reserved=LPR)]
    lines = [
        line("cameras.dome_4mp", 10_000.0, {"A": 1}),
        line("cameras.lpr_2mp", 6_000.0, {"L": 1}, "2.02"),
        line("trench.local", 4_000.0, {"A": 1, "L": 1}, "1.01"),
    ]
    financing = plan(lines, masts)
    evreux = owner(financing, "commune", "27229")
    assert evreux.masts == ("A",) and evreux.cameras == 1
    assert evreux.total_ht == 12_000.0  # its camera and its half of the trench
    reserved = owner(financing, RESERVED, "reserve-etat")
    assert reserved.masts == ("L",) and not reserved.local
    assert reserved.aid_total == 0 and reserved.own_share == reserved.total_ht == 8_000.0
    assert "L233-1" in reserved.notes[0] and "L" in reserved.notes[0]
    assert financing.lines[1].reserved_amount == 6_000.0
    lpr = {r.funder: r for r in financing.lines[1].rules}
    assert not lpr["fipd"].eligible and "L233-1" in lpr["fipd"].rule
    assert financing.lines[2].eligible_for("fipd")  # the shared trench still serves the commune
    assert any("L233-1" in note for note in financing.notes)


def test_the_states_own_masts_get_no_local_aid_and_epci_masts_their_epci() -> None:
    masts = [mast("G", owner="etat", cameras=2), mast("E", "27602", owner="epci"), mast("C")]
    lines = [line("cameras.dome_4mp", 3_000.0, {"G": 1, "E": 1, "C": 1})]
    financing = plan(lines, masts)
    state = owner(financing, "etat", "etat")
    assert state.aid_total == 0 and not state.local and state.own_share == 1_000.0
    epci = owner(financing, "epci", "200071454")
    assert epci.nom == "Évreux Portes de Normandie" and epci.masts == ("E",)
    assert aid(epci, "fipd").amount == 500.0
    assert [o.kind for o in financing.owners] == ["commune", "epci", "etat"]


def test_shared_lines_not_tied_to_a_mast_follow_the_works_key() -> None:
    masts = [mast("A"), mast("B", "27602")]
    lines = [
        line("cameras.dome_4mp", 3_000.0, {"A": 2, "B": 1}),
        line("transport.link_access", 900.0, {"": 1}, "1.09"),
    ]
    financing = plan(lines, masts)
    a, b = owner(financing, "commune", "27229"), owner(financing, "commune", "27602")
    assert (a.total_ht, b.total_ht) == (2_600.0, 1_300.0)
    assert a.works_key + b.works_key == pytest.approx(1.0)


def test_rates_are_inputs_within_the_calls_maximum() -> None:
    call = with_rates(load_call(), parse_rates(["fipd=40", "detr=25,5"]))
    assert call.funder("fipd").requested_rate == 40 and call.funder("detr").requested_rate == 25.5
    with pytest.raises(ConfigurationError, match=r"fipd=60: the call allows 0 to 50 %"):
        with_rates(load_call(), {"fipd": 60})
    with pytest.raises(ConfigurationError, match=r"unknown funder.*leader"):
        with_rates(load_call(), {"leader": 10})
    with pytest.raises(ConfigurationError, match="expected FUNDER=PERCENT"):
        parse_rates(["fipd:40"])


def test_the_shipped_call_names_its_sources_and_known_categories() -> None:
    call = load_call()
    assert "Isère" in call.source and "L1111-10" in call.cap_source
    assert call.public_aid_cap == 80
    fipd = call.funder("fipd")
    assert (fipd.max_rate, fipd.ceiling_per_camera) == (50, 15_000)
    assert {"etudes", "fonctionnement"} <= set(fipd.excluded)
    for funder in call.funders:
        assert set(funder.eligible) | set(funder.excluded) <= set(CATEGORIES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list\n", "must be a mapping"),
        (
            "key: x\ntitle: t\nyear: 2026\nsource: s\npublic_aid_cap: {percent: 80}\nfunders:\n"
            "  - {key: fipd, label: F, max_rate: 50, requested_rate: 60, owners: [commune]}\n",
            "requested_rate 60 is over max_rate 50",
        ),
        (
            "key: x\ntitle: t\nyear: 2026\nsource: s\npublic_aid_cap: {percent: 80}\nfunders:\n"
            "  - {key: fipd, label: F, max_rate: 50, requested_rate: 50, owners: [commune],\n"
            "     eligible: {caméras: oui}}\n",
            "unknown category 'caméras'",
        ),
        ("key: [unclosed\n", "cannot read the call"),
    ],
)
def test_a_bad_call_file_is_named_with_its_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "appel.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as error:
        load_call(path)
    assert str(path) in str(error.value)
