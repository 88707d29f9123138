"""CSV and XLSX formula injection (issue 16, item 5): every export, fed hostile text where a
stranger, a user or an input file can put it, writes it as inert text.

- ``vigie audit export`` (real CLI): a failed login's user name (anonymous) and picture-view
  reasons (operators, gendarmes);
- ``vigie estimate`` CSV and XLSX (real CLI) and ``/api/v1/plans/{name}/dqe.xlsx``: the plan's
  folder name, commune names and EPCIs of its ``summary.json``, the owners of reused ducts and
  poles and the leased links' node ids (GraceTHD deliveries), a price file's labels and sources;
  and the workbook of an estimate whose every text field is hostile;
- ``/api/v1/availability`` CSV (both variants): its keys.

A CSV cell must not start with ``= + - @`` tab or CR (unless it is a number); an XLSX must hold
exactly the formulas Vigie writes, wherever the hostile text went.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from cameras.catalogue import load_catalogue
from planning.plan_folder import read_plan_folder
from planning.prices import load_prices
from tests.helpers.cli import run
from tests.helpers.service import Service, make_settings, running_service
from tests.helpers.spreadsheets import (
    HOSTILE,
    LINK,
    csv_cells,
    dangerous_csv_cells,
    formula_cells,
    load,
    text_values,
)
from tests.helpers.supervision_data import T0, add_cameras
from vigie import audit, db
from vigie.credentials import KeyRing
from vigie.estimate.dqe import build_estimate
from vigie.estimate.workbook import build_workbook
from vigie.models import AuditEvent
from vigie.routes.availability import CSV_COLUMNS, _csv, _csv_fr
from vigie.spreadsheet_safety import restore
from vigie.supervisor import pictures


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with running_service(make_settings(database_url, plans_dir=tmp_path / "plans")) as service:
        yield service


# --- the audit trail ------------------------------------------------------------------------------


def test_audit_export_quotes_hostile_user_names_and_reasons(
    service: Service, tmp_path: Path
) -> None:
    add_cameras(service.engine)
    with db.session_scope(db.session_factory(service.engine)) as session:
        keys = KeyRing.from_settings(service.settings)
        pictures.store_snapshot(session, "cam-a1", keys=keys, jpeg=b"\xff\xd8\xff", at=T0)
    # A stranger's failed login; an operator's picture views with hostile reasons.
    assert service.login(LINK, "whatever-password").status_code == 400
    operator = service.headers("operator")
    reasons = [f"{payload} intervention 118" for payload in HOSTILE]
    for reason in reasons:
        response = service.client.post(
            "/api/v1/cameras/cam-a1/snapshot", headers=operator, json={"reason": reason}
        )
        assert response.status_code == 200, response.text

    out = tmp_path / "audit.csv"
    exported = run(
        "audit", "export", "--out", str(out), env={"VIGIE_DATABASE_URL": service.settings.db_url}
    )
    assert exported.returncode == 0, exported.stderr
    text = out.read_text(encoding="utf-8")
    assert dangerous_csv_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "'" + LINK in {row["actor"] for row in rows}
    assert {restore(row["reason"]) for row in rows} >= set(reasons)
    # The stored text comes back exactly: each exported row still matches its hash.
    for row in rows:
        fields = {name: restore(value) for name, value in row.items()}
        event = AuditEvent(
            **{k: v for k, v in fields.items() if k not in ("id", "at", "hash")},
            id=int(fields["id"]),
            at=datetime.strptime(fields["at"], "%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        assert audit.row_hash(event) == fields["hash"], row


# --- the availability CSV -------------------------------------------------------------------------


def _availability_row(key: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CSV_COLUMNS, 0)
    row.update(month="2026-03", level="camera", key=key, ratio=-0.5, observed=1.0)
    return row


@pytest.mark.parametrize("variant", ["en", "fr"])
def test_availability_csv_quotes_hostile_keys(variant: str) -> None:
    # Camera ids cannot start with these characters today (the API's pattern); the export does
    # not rely on it.
    rows = [_availability_row(payload) for payload in HOSTILE]
    text = _csv(rows) if variant == "en" else _csv_fr(rows)
    delimiter = "," if variant == "en" else ";"
    assert dangerous_csv_cells(text, delimiter) == []
    assert "'" + LINK in set(csv_cells(text, delimiter))
    assert "-0.5" in set(csv_cells(text, delimiter)) or variant == "fr"  # numbers stay numbers


# --- estimates ------------------------------------------------------------------------------------


def _hostile_plan(sample_plan: Path, folder: Path) -> Path:
    """The sample plan with hostile commune names and EPCIs in its summary."""
    shutil.copytree(sample_plan, folder)
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    epcis = sorted({entry["epci"] for entry in summary["communes"].values()})
    hostile_epci = {siren: f"{HOSTILE[n % len(HOSTILE)]} {n}" for n, siren in enumerate(epcis)}
    for n, entry in enumerate(summary["communes"].values()):
        entry["nom"] = HOSTILE[n % len(HOSTILE)]
        entry["epci"] = hostile_epci[entry["epci"]]  # as many EPCIs as before
    summary_path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    return folder


def _hostile_prices(path: Path) -> Path:
    """A price file whose labels, sources and notes are formulas."""
    overrides = {
        "trench": {
            name: {"label": HOSTILE[n], "source": HOSTILE[n - 1], "note": HOSTILE[n - 2]}
            for n, name in enumerate(("motorway", "primary", "secondary", "tertiary", "local"))
        }
    }
    path.write_text(yaml.safe_dump(overrides, allow_unicode=True), encoding="utf-8")
    return path


def test_estimate_csv_and_xlsx_keep_hostile_plan_data_as_text(
    sample_plan: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(sample_plan, clean)
    plan = _hostile_plan(sample_plan, tmp_path / "=1+1")  # the folder's name is the CSV's plan
    prices = _hostile_prices(tmp_path / "prices.yaml")

    reference = run("estimate", "clean", "--out", "clean.xlsx", cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    for out in ("dqe.xlsx", "dqe.csv"):
        done = run("estimate", plan.name, "--out", out, "--prices", str(prices), cwd=tmp_path)
        assert done.returncode == 0, done.stderr

    text = (tmp_path / "dqe.csv").read_text(encoding="utf-8")
    assert dangerous_csv_cells(text) == []
    quoted = {cell for cell in csv_cells(text) if cell.startswith("'")}
    assert "'=1+1" in quoted  # the plan's folder
    assert quoted & {"'" + payload for payload in HOSTILE[1:]}  # the labels of the trenches

    book, intended = load(tmp_path / "dqe.xlsx"), load(tmp_path / "clean.xlsx")
    formulas = formula_cells(book)
    assert formulas.keys() == formula_cells(intended).keys()
    assert not [f for f in formulas.values() if "cmd" in f or "HYPERLINK" in f or "1+1" in f]
    assert LINK in text_values(book)  # the commune name is there, as text


def test_estimate_keeps_hostile_owner_names_as_text(sample_plan: Path, tmp_path: Path) -> None:
    """Owners come from users' GraceTHD deliveries: the running-cost lines name them."""
    plan = tmp_path / "hostile"
    shutil.copytree(sample_plan, plan)
    summary_path = plan / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["owners"], "the sample plan reuses ducts and poles"
    for n, row in enumerate(summary["owners"]):
        row["owner"] = HOSTILE[n % len(HOSTILE)]
    for link in summary["links"]:  # node ids come from the same deliveries
        link["from_id"], link["to_id"] = LINK, "=1+1"
    summary_path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    for out in ("dqe.xlsx", "dqe.csv", "clean.xlsx"):
        source = sample_plan if out == "clean.xlsx" else plan
        done = run("estimate", str(source), "--out", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr

    text = (tmp_path / "dqe.csv").read_text(encoding="utf-8")
    assert dangerous_csv_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    owners = {restore(r["proprietaire"]) for r in rows if r["lot"] == "exploitation"}
    assert LINK in owners
    assert "'" + LINK in {r["proprietaire"] for r in rows}

    book, intended = load(tmp_path / "dqe.xlsx"), load(tmp_path / "clean.xlsx")
    formulas = formula_cells(book)
    assert formulas.keys() == formula_cells(intended).keys()
    assert not [f for f in formulas.values() if "cmd" in f or "HYPERLINK" in f or "1+1" in f]
    sheet = book["Coûts d'exploitation"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == LINK]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_every_text_of_an_estimate_stays_text_in_the_workbook(sample_plan: Path) -> None:
    folder = read_plan_folder(sample_plan)
    estimate = build_estimate(folder, load_prices(), load_catalogue())
    replaced: dict[str, str] = {}  # equal texts stay equal: the EPCI table keeps its rows

    def hostile(value: object) -> object:
        if isinstance(value, str):
            n = len(replaced)
            return replaced.setdefault(value, f"{HOSTILE[n % len(HOSTILE)]} {n}")
        if isinstance(value, dict):
            return {k: hostile(v) for k, v in value.items()}
        if isinstance(value, list):
            return [hostile(v) for v in value]
        if dataclasses.is_dataclass(value):
            changes = {
                f.name: hostile(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.name not in ("by_commune", "figures")
            }
            return dataclasses.replace(value, **changes)  # type: ignore[type-var]
        return value

    attacked = hostile(estimate)
    intended = formula_cells(build_workbook([estimate, estimate]))
    buffer = io.BytesIO()
    build_workbook([attacked, attacked]).save(buffer)  # type: ignore[list-item]
    book = load(buffer.getvalue())
    assert formula_cells(book).keys() == intended.keys()
    written = set(replaced.values()) & text_values(book)  # (keys and paths are not cells)
    assert len(written) > 0.9 * len(replaced)
    assert not [f for f in formula_cells(book).values() if "cmd" in f or "HYPERLINK" in f]


def test_the_plans_dqe_route_keeps_hostile_commune_names_as_text(
    service: Service, sample_plan: Path
) -> None:
    plans = service.settings.plans_path
    plans.mkdir(parents=True, exist_ok=True)
    shutil.copytree(sample_plan, plans / "clean")
    _hostile_plan(sample_plan, plans / "hostile")
    amo = service.headers("amo")
    workbooks = {}
    for name in ("clean", "hostile"):
        response = service.client.get(f"/api/v1/plans/{name}/dqe.xlsx", headers=amo)
        assert response.status_code == 200, response.text
        workbooks[name] = load(response.content)
    formulas = formula_cells(workbooks["hostile"])
    assert formulas.keys() == formula_cells(workbooks["clean"]).keys()
    assert not [f for f in formulas.values() if "HYPERLINK" in f or "cmd" in f]
    assert LINK in text_values(workbooks["hostile"])
