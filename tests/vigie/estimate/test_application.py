"""The FIPD application files per project owner: who gets one, what is in it, and that its
figures are the financing's, recomputed by LibreOffice and printed by chromium.

The sample plan is edited so that every kind of owner is present: an EPCI, the Département and
the State carry some masts, and a commune mast carries a plate-reading (LAPI) camera, which the
law reserves to the State; one commune is named like a spreadsheet formula.
"""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from pathlib import Path

import pyogrio
import pytest
from pyproj import Transformer

from cameras.catalogue import load_catalogue
from planning.plan_folder import read_plan_folder
from planning.prices import load_prices
from tests.helpers.browser import chromium
from tests.helpers.libreoffice import named, recalculate_all
from tests.helpers.spreadsheets import LINK, formula_cells, load
from vigie.errors import ConfigurationError
from vigie.estimate import application_files
from vigie.estimate.application import applications
from vigie.estimate.application_files import write_applications
from vigie.estimate.calls import load_call, with_rates
from vigie.estimate.dqe import build_estimate
from vigie.estimate.files import estimate_document

LAPI = "lpr_2mp"


def reserved_catalogue():
    """The shipped catalogue, where plate reading is the State's (CSI L233-1)."""
    catalogue = load_catalogue()
    assert catalogue.cameras[LAPI].reserved_to == "etat"
    return catalogue


@pytest.fixture(scope="module")
def owned_plan(sample_plan: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the sample with owners, a LAPI camera on a commune mast and a hostile name."""
    folder = tmp_path_factory.mktemp("owned") / "plan"
    shutil.copytree(sample_plan, folder)
    gpkg = folder / "plan.gpkg"
    layers = {
        name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)
    }
    masts = layers["masts"]
    masts["owner"] = "commune"
    counts = masts["commune"].value_counts()
    several = [c for c in counts.index if counts[c] >= 2]
    lapi_commune, hostile_commune, epci_commune = several[0], several[1], several[2]
    ids = masts["mast_id"].astype(str)
    lapi_mast = ids[masts["commune"] == lapi_commune].iloc[0]
    masts["camera_model"] = masts["camera_model"].replace(LAPI, "fixed_4mp")
    masts.loc[ids == lapi_mast, "camera_model"] = LAPI  # the only one, on a commune's mast
    masts.loc[masts["commune"] == epci_commune, "owner"] = "epci"
    others = ids[~masts["commune"].isin([lapi_commune, hostile_commune, epci_commune])]
    masts.loc[ids == others.iloc[0], "owner"] = "departement"
    masts.loc[ids == others.iloc[1], "owner"] = "etat"
    gpkg.unlink()
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, gpkg, layer=name)
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["communes"][hostile_commune]["nom"] = LINK
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    return {
        "path": folder,
        "lapi_mast": lapi_mast,
        "lapi_commune": lapi_commune,
        "hostile": hostile_commune,
    }


@pytest.fixture(scope="module")
def built(owned_plan: dict):
    folder = read_plan_folder(owned_plan["path"])
    catalogue = reserved_catalogue()
    call = with_rates(load_call(), {"detr": 60})  # FIPD 50 % + DETR 60 %: the 80 % cap bites
    estimate = build_estimate(folder, load_prices(), catalogue, call)
    return estimate, applications(estimate, folder, catalogue)


@pytest.fixture(scope="module")
def written(built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    estimate, apps = built
    out = tmp_path_factory.mktemp("applications") / "dossiers"
    others = [o for o in estimate.financing.owners if not o.local]
    write_applications(apps, others, estimate.source, out)
    return out


def test_every_local_owner_gets_both_files_and_no_other_owner_does(built, written: Path) -> None:
    estimate, apps = built
    owners = estimate.financing.owners
    kinds = {o.kind for o in owners}
    assert {"commune", "epci", "departement", "etat", "hors"} <= kinds
    assert [a.owner for a in apps] == [o for o in owners if o.local]
    expected = {f"{a.stem}.{suffix}" for a in apps for suffix in ("xlsx", "html")}
    assert {p.name for p in written.iterdir()} == expected | {"index.html"}
    assert not any(("etat" in a.stem or "reserv" in a.stem) for a in apps)
    index = (written / "index.html").read_text(encoding="utf-8")
    for app in apps:
        assert f'href="{app.stem}.html"' in index and f'href="{app.stem}.xlsx"' in index
    for owner in owners:
        if not owner.local:
            assert escape(owner.label) in index.split("Sans dossier")[1]


def test_cameras_are_the_owners_masts_and_a_state_reserved_one_is_not(
    built, owned_plan: dict, written: Path
) -> None:
    estimate, apps = built
    hors = next(o for o in estimate.financing.owners if o.kind == "hors")
    assert owned_plan["lapi_mast"] in hors.masts
    commune = next(a for a in apps if a.owner.code == owned_plan["lapi_commune"])
    listed = [s.mast_id for s in commune.sites]
    assert owned_plan["lapi_mast"] not in listed
    for app in apps:
        assert tuple(s.mast_id for s in app.sites) == app.owner.masts
        assert sum(s.cameras for s in app.sites) == app.owner.cameras
    sheet = load(written / f"{commune.stem}.xlsx")["caméras"]
    column = [c.value for c in sheet["A"][5:] if c.value]
    assert column == listed
    to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True)
    for site in commune.sites:
        lon, lat = to_wgs84.transform(site.x, site.y)
        assert (lat, lon) == pytest.approx((site.lat, site.lon), abs=1e-5)
        assert 48.6 < site.lat < 49.6 and 0.2 < site.lon < 1.9  # the Eure


def test_libreoffice_recomputes_the_financing_plan_to_the_json_cent(
    built, written: Path, tmp_path: Path
) -> None:
    estimate, apps = built
    owners = {
        (o["kind"], o["code"]): o for o in estimate_document([estimate])["estimates"][0]["owners"]
    }
    capped = next(a for a in apps if a.owner.capped and a.owner.kind == "commune")
    chosen = [capped, *(a for a in apps if a.owner.kind in ("epci", "departement"))]
    paths = [written / f"{a.stem}.xlsx" for a in chosen]
    books = recalculate_all(paths, tmp_path)
    for app, path in zip(chosen, paths, strict=True):
        book, owner = books[path], owners[(app.owner.kind, app.owner.code)]
        assert named(book, "cout_ht") == pytest.approx(owner["total_ht"], abs=0.005), app.stem
        assert named(book, "plafond_aides") == pytest.approx(owner["public_aid_cap_ht"], abs=0.005)
        assert named(book, "cout_ttc") == pytest.approx(app.total_ttc, abs=0.005)
        for aid in owner["aids"]:
            asked = named(book, f"demande_{aid['funder']}")
            assert asked == pytest.approx(aid["requested"], abs=0.005), (app.stem, aid["funder"])
            assert named(book, f"aide_{aid['funder']}") == pytest.approx(aid["amount"], abs=0.005)
        assert named(book, "aides") == pytest.approx(owner["aids_ht"], abs=0.005)
        assert named(book, "part_mo") == pytest.approx(owner["own_share_ht"], abs=0.005)
    assert capped.owner.aid_total == capped.owner.cap  # the cap decided this one


def test_text_from_data_starting_with_equals_stays_text(
    built, owned_plan: dict, written: Path
) -> None:
    _, apps = built
    app = next(a for a in apps if a.owner.code == owned_plan["hostile"])
    book = load(written / f"{app.stem}.xlsx")
    assert not [f for f in formula_cells(book).values() if "evil" in f or "HYPERLINK" in f]
    cells = [c for row in book["caméras"].iter_rows() for c in row if c.value == LINK]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    html = (written / f"{app.stem}.html").read_text(encoding="utf-8")
    assert LINK not in html and escape(LINK) in html


def test_chromium_prints_the_document_on_a4(built, written: Path, tmp_path: Path) -> None:
    _, apps = built
    app = next(a for a in apps if a.owner.kind == "commune")
    outside: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.route(
            re.compile(r"^(?!file:).*"),
            lambda route: (outside.append(route.request.url), route.abort()),
        )
        page.goto((written / f"{app.stem}.html").as_uri())
        text = page.inner_text("body")
        marks = page.locator("svg text").count()
        pdf = page.pdf(format="A4", print_background=True)
    assert not outside  # self-contained: nothing fetched from anywhere
    assert app.owner.label in text
    for heading in ("Plan de financement", "Calendrier prévisionnel", "Avis du référent sûreté"):
        assert heading in text
    assert "Licence Ouverte / Etalab 2.0" in text  # the boundaries' credit under the map
    assert "L1111-10" in text and "pas acquis" in text and "L252-1" in text
    assert marks >= len(app.sites)  # the map labels every mast
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 1
    (tmp_path / "dossier.pdf").write_bytes(pdf)


def test_a_failure_half_way_leaves_nothing(built, tmp_path: Path, monkeypatch) -> None:
    estimate, apps = built
    calls = []

    def broken(app, figure):
        calls.append(app)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return "<html></html>"

    monkeypatch.setattr(application_files, "application_html", broken)
    target = tmp_path / "new" / "dossiers"
    with pytest.raises(ConfigurationError, match="No space left"):
        write_applications(apps, [], estimate.source, target)
    assert list(tmp_path.iterdir()) == []  # neither the folder, its parent nor a staging folder


def test_an_existing_folder_is_unchanged_when_the_last_step_fails(built, tmp_path: Path) -> None:
    estimate, apps = built
    target = tmp_path / "dossiers"
    target.mkdir()
    (target / "notes.txt").write_text("à garder", encoding="utf-8")

    def estimate_fails() -> None:
        raise ConfigurationError("dqe.xlsx: cannot write it")

    with pytest.raises(ConfigurationError, match=r"dqe\.xlsx"):
        write_applications(apps[:2], [], estimate.source, target, before_publish=estimate_fails)
    assert [p.name for p in tmp_path.iterdir()] == ["dossiers"]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_a_file_in_the_way_is_refused_before_any_work(built, tmp_path: Path) -> None:
    estimate, apps = built
    (tmp_path / "dossiers").write_text("", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a folder"):
        write_applications(apps, [], estimate.source, tmp_path / "dossiers" / "sub")
    assert [p.name for p in tmp_path.iterdir()] == ["dossiers"]
