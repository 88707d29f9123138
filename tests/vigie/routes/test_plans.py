"""/api/v1/plans: the plans folder's plans, their layers in WGS84 and their DQE, audited."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers.service import Service, make_settings
from vigie import db
from vigie.models import AuditEvent

PLAN = "eure-2026"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sample_plan: Path):
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.copytree(sample_plan, plans / PLAN)
    (plans / "empty-folder").mkdir()  # not a plan: no summary.json
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "summary.json").write_text('{"totals": {}}', encoding="utf-8")
    return make_settings(database_url, plans_dir=plans)


def test_the_list_gives_each_plan_with_its_headline_figures(
    service: Service, sample_plan: Path
) -> None:
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    response = service.client.get("/api/v1/plans", headers=service.headers("engineer"))
    assert response.status_code == 200
    (item,) = response.json()
    assert item["name"] == PLAN
    assert item["totals"]["masts"] == summary["totals"]["masts"]
    assert item["totals"]["cost_eur"] == summary["totals"]["cost_eur"]
    detail = service.client.get(f"/api/v1/plans/{PLAN}", headers=service.headers("amo")).json()
    assert detail["communes"] == summary["communes"]


def test_the_layers_come_in_wgs84_with_their_legend(service: Service, sample_plan: Path) -> None:
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    response = service.client.get(f"/api/v1/plans/{PLAN}/geojson", headers=service.headers("amo"))
    assert response.status_code == 200
    body = response.json()
    assert len(body["masts"]["features"]) == summary["totals"]["masts"]
    modes = {f["properties"]["mode"] for f in body["trenches"]["features"]}
    used = {m for m, metres in summary["totals"]["length_m_by_mode"].items() if metres > 0}
    assert modes == used
    assert set(body["legend"]["modes"]) >= modes
    lon, lat = body["masts"]["features"][0]["geometry"]["coordinates"][:2]
    assert 0.7 < lon < 1.9 and 48.6 < lat < 49.5


def test_the_dqe_is_the_estimate_workbook_and_its_export_is_audited(service: Service) -> None:
    response = service.client.get(f"/api/v1/plans/{PLAN}/dqe.xlsx", headers=service.headers("amo"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f'filename="dqe-{PLAN}.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) >= 3
    with db.session_scope(db.session_factory(service.engine)) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "plan.dqe_export"))
        (row,) = rows.all()
        assert (row.actor, row.object_id) == ("amo", PLAN)


@pytest.mark.parametrize(
    "name",
    ["..", "...", "..%2Fsecret", "%2E%2E", ".hidden", "empty-folder", "nope", "a" * 200, "x y"],
)
def test_bad_or_unknown_names_are_404_and_never_leave_the_folder(
    service: Service, name: str
) -> None:
    headers = service.headers("admin")
    for suffix in ("", "/geojson", "/dqe.xlsx"):
        response = service.client.get(f"/api/v1/plans/{name}{suffix}", headers=headers)
        assert response.status_code == 404, (name, suffix, response.text)
        assert "totals" not in response.text


def test_operators_do_not_read_plans(service: Service) -> None:
    for user in ("operator", "gendarme", "mairie-27056"):
        response = service.client.get("/api/v1/plans", headers=service.headers(user))
        assert response.status_code == 403


def test_a_missing_plans_folder_is_an_empty_list(database_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.helpers.service import seed
    from vigie.api import create_app

    settings = make_settings(database_url, plans_dir=tmp_path / "none")
    engine = db.make_engine(settings.db_url)
    seed(engine)
    with TestClient(create_app(settings)) as client:
        service = Service(client=client, settings=settings, engine=engine)
        response = client.get("/api/v1/plans", headers=service.headers("engineer"))
    engine.dispose()
    assert response.status_code == 200
    assert response.json() == []
