"""``vigie validate``, ``vigie sample`` and ``vigie plan`` run as a user would (subprocess), on the
real Eure sample and on edited copies of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planning.french import euros, number
from tests.helpers.cli import run, sample_folder
from tests.helpers.paths import SAMPLE
from tests.helpers.planning_layers import make_layers, write_gpkg
from vigie.cli.plan import bound_text


def test_validate_the_sample_exits_0_and_prints_no_problem() -> None:
    result = run("validate", str(SAMPLE), columns=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    # Piped without COLUMNS, as in CI: the verdict is one line, however long, and in French.
    (verdict,) = result.stderr.splitlines()
    assert verdict.startswith(f"{SAMPLE}: utilisable — 0 erreur(s), 0 avertissement(s) dans ")
    assert len(verdict) > 80


def test_validate_a_broken_copy_prints_one_line_per_problem(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":
            frame.loc[1, "id"] = frame.loc[0, "id"]
        if name == "ftth_routes":
            frame = frame.drop(columns=["spare"])
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("validate", str(folder))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ftth_routes:-: missing required field 'spare'")
    mast = lines[1].split(":")[1]
    assert lines[1].startswith(f"masts:{mast}: duplicate id")
    assert len(lines) == 2, lines
    assert "inutilisable — 2 erreur(s), 0 avertissement(s)" in result.stderr

    report = json.loads(run("validate", str(folder), "--json").stdout)
    assert report["valid"] is False
    assert [(p["layer"], p["code"]) for p in report["problems"]] == [
        ("ftth_routes", "missing-field"),
        ("masts", "duplicate-id"),
    ]


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":  # a mast declared in the wrong (but existing) commune
            other = sorted(set(frame["commune"]) - {frame.loc[0, "commune"]})[0]
            frame.loc[0, "commune"] = other
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    lenient = run("validate", str(folder))
    assert lenient.returncode == 0
    assert "outside its commune" in lenient.stdout
    assert ": warning: " in lenient.stdout
    assert run("validate", str(folder), "--strict").returncode == 1


def test_validate_unusable_arguments_are_clear_errors(tmp_path: Path) -> None:
    missing = run("validate", str(tmp_path / "nowhere.gpkg"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ")
    assert "nowhere.gpkg" in missing.stderr
    assert "Traceback" not in missing.stderr

    corrupt = tmp_path / "corrupt.gpkg"
    corrupt.write_bytes(SAMPLE.read_bytes()[:50_000])
    result = run("validate", str(corrupt))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.startswith("corrupt.gpkg:-: ")


def test_sample_eure_writes_a_valid_geopackage(tmp_path: Path) -> None:
    out_file = tmp_path / "sample.gpkg"
    result = run("sample", "eure", "--out", str(out_file), "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert f"écrit : {out_file}" in result.stderr
    assert "note: 2018 commune" in result.stderr
    assert run("validate", str(out_file)).returncode == 0


def test_sample_eure_unknown_epci_is_a_clear_error(tmp_path: Path) -> None:
    result = run("sample", "eure", "--out", str(tmp_path / "x.gpkg"), "--epci", "123456789")
    assert result.returncode == 1
    assert "no EPCI with SIREN '123456789'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.gpkg").exists()


def test_plan_the_sample_exits_0_and_writes_the_three_outputs(tmp_path: Path) -> None:
    result = run("plan", str(SAMPLE), "--out", str(tmp_path / "plan"), columns=None)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("plan.gpkg", "summary.json", "map.html"):
        assert (tmp_path / "plan" / name).is_file(), name
    assert "110 / 110" in result.stdout  # masts connected
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    totals = summary["totals"]
    assert totals["connected"] == 110
    # The summary is in French, with French numbers: "472 587 € HT", never "472,587".
    assert "Plan de raccordement" in result.stdout and "mâts raccordés" in result.stdout
    assert euros(totals["cost_eur"], "HT") in result.stdout
    assert f"{totals['cost_eur']:,.0f}" not in result.stdout
    # ...led to the sample's CSU, with the yearly rents and the 10-year cost beside it.
    (links,) = [line for line in result.stdout.splitlines() if "liens loués vers le CSU" in line]
    assert "CSU-27" in links and f"{len(summary['links']) - 1} NRO, 1 gendarmerie" in links
    assert euros(totals["running_eur_per_year"], "HT") in result.stdout
    assert euros(totals["tco_eur"], "HT") in result.stdout
    # The sample is too large for the bound, and the table says so with the figures that decide.
    bound = summary["bound"]
    assert bound["computed"] is False and bound["why"].startswith("too_large"), bound
    assert bound["edges"] > bound["max_edges"]
    (line,) = [line for line in result.stdout.splitlines() if "écart à la borne" in line]
    assert f"non calculé : réseau trop grand ({number(bound['edges'])} arêtes" in line
    assert f"{number(bound['max_edges'])} après réductions)" in line
    assert "borne inférieure" in result.stderr  # the progress bar, in French too
    (written,) = [line for line in result.stderr.splitlines() if line.startswith("écrits : ")]
    assert written.split(" (")[0].endswith("plan.gpkg, summary.json, map.html")


def test_plan_exits_3_and_lists_the_masts_it_cannot_connect(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":  # 60 km north, beyond the sample's last road
            point = frame.loc[0, "geometry"]
            frame.loc[0, "geometry"] = type(point)(point.x, point.y + 60_000)
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode == 3, result.stdout + result.stderr
    lost = [line for line in result.stdout.splitlines() if ": unreachable: " in line]
    assert len(lost) == 1, result.stdout
    assert "snapping limit" in lost[0]
    assert (tmp_path / "plan" / "plan.gpkg").is_file()


def test_plan_refuses_invalid_layers_with_the_validator_lines(tmp_path: Path) -> None:
    def edit(name, frame):
        return frame.drop(columns=["free_fibres"]) if name == "ftth_nodes" else frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode == 1
    assert result.stdout.startswith("ftth_nodes:-: missing required field 'free_fibres'")
    assert not (tmp_path / "plan").exists()


def test_plan_parameters_file_is_applied_and_checked(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text('{"cost": {"trench": {"lokal": 10}}}', encoding="utf-8")
    result = run("plan", str(SAMPLE), "--out", str(tmp_path / "plan"), "--params", str(params))
    assert result.returncode == 1
    assert "cost.trench.lokal" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_stdout_holds_only_results_even_when_the_lp_bound_runs(tmp_path: Path) -> None:
    """A small plan computes the HiGHS bound; HiGHS's banner must not reach stdout."""
    import geopandas as gpd
    import pyogrio

    keep = None

    def edit(name, frame):
        nonlocal keep
        if name == "masts":  # two masts only, and only the roads around them
            frame = frame.iloc[:2]
            keep = frame.geometry.buffer(400).union_all()
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    for name in ("roads", "ftth_routes", "ftth_nodes", "power_points"):
        path = folder / f"{name}.geojson"
        frame = gpd.read_file(path, engine="pyogrio")
        frame[frame.intersects(keep)].to_file(path, engine="pyogrio")
    assert [n for n, _ in pyogrio.list_layers(folder / "masts.geojson")] == ["masts"]
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode in (0, 3), result.stderr
    assert "HiGHS" not in result.stdout
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["bound"]["computed"] is True, summary["bound"]
    gap = number(100 * summary["bound"]["gap"], 2)
    (line,) = [line for line in result.stdout.splitlines() if "écart à la borne" in line]
    assert f"{gap}\u00a0%" in line, line


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        (None, "non calculé (option --no-bound)"),
        ({"computed": True, "gap": 0.012345, "optimal": False}, "1,23\u00a0%"),
        ({"computed": True, "gap": 0.0, "optimal": True}, "0,00\u00a0% (plan optimal)"),
        ({"computed": False, "why": "no_mast"}, "non calculé : aucun mât raccordé"),
        (
            {"computed": False, "why": "too_large", "edges": 61234, "max_edges": 5000},
            "non calculé : réseau trop grand (61\u202f234 arêtes ; au plus "
            "5\u202f000 après réductions)",
        ),
        (
            {"computed": False, "why": "too_large_reduced", "edges": 9876, "max_edges": 5000},
            "non calculé : réseau trop grand (9\u202f876 arêtes ; encore plus de "
            "5\u202f000 après réductions)",
        ),
        (
            {"computed": False, "why": "error", "reason": "terminals not connected"},
            "non calculé : terminals not connected",
        ),
    ],
)
def test_the_bound_line_says_why_there_is_no_gap(bound: dict | None, expected: str) -> None:
    assert bound_text(bound) == expected


def test_validate_warns_of_plate_reading_on_a_mast_the_state_does_not_own(tmp_path: Path) -> None:
    refused: list[str] = []

    def edit(name, frame):
        if name == "masts":
            lpr = frame.index[frame["camera_model"] == "lpr_2mp"]
            frame.loc[lpr[0], "owner"] = "commune"
            frame.loc[lpr[1], "owner"] = ""  # blank: the commune's
            frame.loc[lpr[2], "owner"] = "epci"
            refused.extend(frame.loc[lpr[:3], "id"])
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("validate", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr  # a warning: the plan may run
    lines = result.stdout.splitlines()
    assert [line.split(":")[1] for line in lines] == sorted(refused, key=refused.index)
    assert all(": warning: camera model 'lpr_2mp' is reserved to 'etat'" in x for x in lines)
    assert all("L233-1" in line and "Gujan-Mestras" in line for line in lines)
    assert "'commune' (no owner given)" in lines[1] and "'epci'" in lines[2]
    assert "0 erreur(s), 3 avertissement(s)" in result.stderr
    assert run("validate", str(folder), "--strict").returncode == 1
    report = json.loads(run("validate", str(folder), "--json").stdout)
    assert [(p["layer"], p["severity"], p["code"]) for p in report["problems"]] == [
        ("masts", "warning", "camera-reserved")
    ] * 3


def test_plan_prints_the_plate_reading_warning_and_still_plans(tmp_path: Path) -> None:
    layers = make_layers()
    layers["masts"]["camera_model"] = "lpr_2mp"
    layers["masts"]["owner"] = ["etat", None]  # the second is the commune's
    source = write_gpkg(layers, tmp_path / "layers.gpkg")
    result = run("plan", str(source), "--out", str(tmp_path / "plan"))
    assert result.returncode in (0, 3), result.stdout + result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if "L233-1" in line]
    mast = str(layers["masts"]["id"].iloc[1])
    assert warning.startswith(f"masts:{mast}: warning: camera model 'lpr_2mp'")
    assert (tmp_path / "plan" / "plan.gpkg").is_file()
