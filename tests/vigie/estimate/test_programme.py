"""The estimate beside the programme's envelope (the seed's three headings and what they buy)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from cameras.catalogue import load_catalogue
from planning.plan_folder import read_plan_folder
from planning.prices import load_prices
from vigie.errors import ConfigurationError
from vigie.estimate.dqe import build_estimate
from vigie.estimate.files import estimate_document
from vigie.estimate.programme import (
    by_category,
    compare,
    default_envelope_path,
    load_envelope,
)


@pytest.fixture(scope="module")
def estimate(sample_plan: Path):
    return build_estimate(read_plan_folder(sample_plan), load_prices(), load_catalogue())


def test_the_seeds_headings_add_up_and_cover_the_whole_project(estimate) -> None:
    envelope = load_envelope()
    assert envelope.total == sum(h.envelope for h in envelope.headings) == 13_200_000
    assert [h.envelope for h in envelope.headings] == [1_700_000, 9_000_000, 2_500_000]
    comparison = compare(estimate, envelope)
    assert sum(r.estimate for r in comparison.headings) == pytest.approx(
        estimate.total_ht, abs=0.05
    )
    spent = by_category(estimate)
    assert spent["etudes"] == estimate.amo.amount  # the AMO heading is the AMO contract
    fibre = next(r for r in comparison.headings if r.heading.key == "fibre")
    # civil works, fibre, the leased links' access fees and the NRO switches that light them
    switches = sum(
        line.amount for line in estimate.lots[2].lines if line.key.startswith("transport.")
    )
    assert switches > 0
    assert fibre.estimate == pytest.approx(estimate.lots[0].subtotal + switches, abs=0.05)


def test_the_heading_that_runs_out_first_decides(estimate, tmp_path: Path) -> None:
    comparison = compare(estimate, load_envelope())
    expected = {
        r.heading.key: math.floor(r.heading.envelope / (r.estimate / comparison.masts))
        for r in comparison.headings
    }
    assert {r.heading.key: r.masts_affordable for r in comparison.headings} == expected
    assert comparison.masts_affordable == min(expected.values())
    assert comparison.binding == min(expected, key=expected.get)
    per_camera = comparison.cameras / comparison.masts
    assert comparison.cameras_affordable == math.floor(comparison.masts_affordable * per_camera)
    # give that heading ten times the money: another heading decides, and more masts follow
    data = yaml.safe_load(default_envelope_path().read_text(encoding="utf-8"))
    for heading in data["headings"]:
        if heading["key"] == comparison.binding:
            heading["envelope"] *= 10
    richer = tmp_path / "programme.yaml"
    richer.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    other = compare(estimate, load_envelope(richer))
    assert other.binding != comparison.binding
    assert other.masts_affordable > comparison.masts_affordable


def test_the_fipd_at_the_envelopes_scale_follows_the_plans_share(estimate) -> None:
    comparison = compare(estimate, load_envelope())
    assert comparison.fipd == estimate.fipd
    assert comparison.fipd_on_envelope == pytest.approx(
        13_200_000 * estimate.fipd / estimate.total_ht, abs=0.01
    )
    # studies and running costs excluded, ceilings per camera, the State's masts: under half
    assert comparison.fipd_share < 0.5
    document = estimate_document([estimate])["estimates"][0]["programme"]
    assert document["masts_affordable"] == comparison.masts_affordable
    assert document["fipd_on_envelope"] == comparison.fipd_on_envelope


def test_a_bad_envelope_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text("title: x\nheadings: [{key: a}]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"programme\.yaml: cannot read"):
        load_envelope(path)
    path.write_text(
        "title: x\nsource: s\ntotal: 1\nfipd: 1\nheadings:\n"
        "  - {key: a, label: A, envelope: 1, categories: [caméras]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="unknown categories caméras"):
        load_envelope(path)
