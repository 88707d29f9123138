"""/api/v1/availability: figures from the stored history, per level, scoped, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.service import EPCI_A, Service
from tests.helpers.supervision_data import OUTAGE, T0

# March 2026 in Europe/Paris: from 1 March 00:00 CET to 1 April 00:00 CEST.
MARCH_START = datetime(2026, 2, 28, 23, tzinfo=UTC)
MARCH_END = datetime(2026, 3, 31, 22, tzinfo=UTC)
DOWN_AT = OUTAGE + timedelta(seconds=60)


def report(service: Service, username: str, query: str) -> list[dict]:
    response = service.client.get(f"/api/v1/availability{query}", headers=service.headers(username))
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_march_per_camera_commune_epci_and_all(supervised: Service) -> None:
    rows = {(r["level"], r["key"]): r for r in report(supervised, "operator", "?month=2026-03")}
    assert {level for level, _ in rows} == {"camera", "commune", "epci", "all"}
    a1 = rows[("camera", "cam-a1")]
    assert a1["month"] == "2026-03"
    assert a1["up_s"] == (DOWN_AT - T0).total_seconds()
    assert a1["down_s"] == (MARCH_END - DOWN_AT).total_seconds()
    assert a1["unknown_s"] == (T0 - MARCH_START).total_seconds()
    assert a1["ratio"] == pytest.approx(3660 / (MARCH_END - T0).total_seconds())
    assert rows[("camera", "cam-a2")]["ratio"] == 1.0
    epci = rows[("epci", EPCI_A)]
    assert epci["down_s"] == a1["down_s"]
    assert epci["up_s"] == a1["up_s"] + rows[("camera", "cam-a2")]["up_s"]
    assert rows[("all", "all")]["down_s"] == 2 * a1["down_s"]


def test_a_commune_user_gets_only_its_cameras(supervised: Service) -> None:
    rows = report(supervised, "mairie-27056", "?month=2026-03&level=camera&level=all")
    assert [(r["level"], r["key"]) for r in rows] == [("camera", "cam-a1"), ("all", "all")]
    assert rows[1]["down_s"] == rows[0]["down_s"]


def test_csv_by_parameter_or_accept_header(supervised: Service) -> None:
    headers = supervised.headers("operator")
    by_format = supervised.client.get(
        "/api/v1/availability?month=2026-03&level=commune&format=csv", headers=headers
    )
    by_accept = supervised.client.get(
        "/api/v1/availability?month=2026-03&level=commune",
        headers={**headers, "Accept": "text/csv"},
    )
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
    assert by_format.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_format.text)))
    assert [r["key"] for r in rows] == ["27056", "27229", "27681"]
    assert float(rows[1]["ratio"]) == 1.0
    assert by_format.text.splitlines()[0].startswith("month,level,key,ratio,observed,up_s")


def test_a_period_across_months_and_bad_periods(supervised: Service) -> None:
    rows = report(
        supervised,
        "operator",
        "?start=2026-03-02T00:00:00Z&end=2026-04-02T00:00:00Z&level=all",
    )
    assert [r["month"] for r in rows] == ["2026-03", "2026-04"]
    headers = supervised.headers("operator")
    for query, message in (
        ("", "give a month"),
        ("?month=2026-13", "month: String should match pattern"),
        ("?month=2026-03&start=2026-03-01T00:00:00Z", "not both"),
        ("?start=2026-03-02T00:00:00Z&end=2026-03-01T00:00:00Z", "is empty"),
        ("?start=2026-03-02T00:00:00&end=2026-03-03T00:00:00", "UTC offset"),
        ("?start=2025-01-01T00:00:00Z&end=2026-03-01T00:00:00Z", "366 days"),
    ):
        response = supervised.client.get(f"/api/v1/availability{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        found = [problem["detail"]] + [
            f"{e['loc'][-1]}: {e['msg']}" for e in problem.get("errors", [])
        ]
        assert any(message in text for text in found), (query, found)
