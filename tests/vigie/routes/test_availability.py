"""/api/v1/availability: figures from the stored history, per level, scoped, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.service import EPCI_A, Service
from tests.helpers.supervision_data import CAMERAS, OUTAGE, T0, add_cameras, feed, ok
from vigie.deps import get_now
from vigie.routes.availability import _cell_fr

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


# --- observed until now --------------------------------------------------------------------------
# Paris months as UTC instants (CET = UTC+1, CEST = UTC+2); summer time starts on 29 March 2026 at
# 02:00 CET (that hour is skipped) and ends on 25 October 2026 at 03:00 CEST (lived twice).
OCTOBER_START = datetime(2026, 9, 30, 22, tzinfo=UTC)
NOVEMBER_START = datetime(2026, 10, 31, 23, tzinfo=UTC)
SINCE = datetime(2026, 2, 1, tzinfo=UTC)  # cam-a2 up from here, never checked again: still up


@pytest.fixture
def clocked(service: Service) -> Service:
    """cam-a2 up since February; cam-a1 and cam-b1 never checked."""
    add_cameras(service.engine)
    feed(service, [ok("cam-a2", SINCE)])
    return service


def stop_clock(service: Service, now: datetime) -> None:
    service.client.app.dependency_overrides[get_now] = lambda: now


@pytest.mark.parametrize(
    ("month", "now", "elapsed_h", "month_h"),
    [
        ("2026-03", MARCH_START + timedelta(minutes=90), 1.5, 743),  # start of the month
        ("2026-03", datetime(2026, 3, 15, 11, tzinfo=UTC), 14 * 24 + 12, 743),  # 15th, 12:00 CET
        # 29 March 04:00 CEST: 28 days 4 hours on the local clock, less the skipped hour
        ("2026-03", datetime(2026, 3, 29, 2, tzinfo=UTC), 28 * 24 + 4 - 1, 743),
        ("2026-03", MARCH_END - timedelta(minutes=6), 743 - 0.1, 743),  # 31st, 23:54 CEST
        # 25 October 03:00 CET: 24 days 3 hours on the local clock, plus the hour lived twice
        ("2026-10", datetime(2026, 10, 25, 2, tzinfo=UTC), 24 * 24 + 3 + 1, 745),
        ("2026-10", NOVEMBER_START, 745, 745),  # the month just ended
    ],
)
def test_a_month_is_observed_until_the_service_clock(
    clocked: Service, month: str, now: datetime, elapsed_h: float, month_h: int
) -> None:
    stop_clock(clocked, now)
    headers = clocked.headers("operator")
    response = clocked.client.get(f"/api/v1/availability?month={month}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["elapsed_s"] == pytest.approx(elapsed_h * 3600)
    assert body["elapsed_share"] == pytest.approx(elapsed_h / month_h)
    assert datetime.fromisoformat(body["observed_until"]) == now
    rows = {(r["level"], r["key"]): r for r in body["rows"]}
    up, never = rows[("camera", "cam-a2")], rows[("camera", "cam-a1")]
    # cam-a2's open span stops at now: up for the hours passed, none of the month still to come
    assert up["up_s"] == pytest.approx(elapsed_h * 3600)
    assert up["unknown_s"] == pytest.approx(0)
    assert up["ratio"] == 1.0
    assert never["unknown_s"] == pytest.approx(elapsed_h * 3600)
    for row in rows.values():
        assert row["elapsed_s"] == body["elapsed_s"]
        assert row["elapsed_share"] == body["elapsed_share"]
        start, end = (datetime.fromisoformat(row[k]) for k in ("period_start", "period_end"))
        assert (end - start).total_seconds() == month_h * 3600
    assert rows[("all", "all")]["unknown_s"] == pytest.approx(2 * elapsed_h * 3600)

    csv_text = clocked.client.get(
        f"/api/v1/availability?month={month}&level=camera&format=csv", headers=headers
    ).text
    lines = list(csv.DictReader(io.StringIO(csv_text)))
    (line,) = [r for r in lines if r["key"] == "cam-a2"]
    assert float(line["up_s"]) == pytest.approx(elapsed_h * 3600)
    assert float(line["elapsed_share"]) == pytest.approx(elapsed_h / month_h)
    assert datetime.fromisoformat(line["observed_until"]) == now


def test_a_month_to_come_has_nothing_observed(clocked: Service) -> None:
    stop_clock(clocked, OCTOBER_START - timedelta(seconds=1))
    response = clocked.client.get(
        "/api/v1/availability?month=2026-10", headers=clocked.headers("operator")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["elapsed_s"], body["elapsed_share"]) == (0, 0)
    assert datetime.fromisoformat(body["observed_until"]) == OCTOBER_START
    assert {r["key"] for r in body["rows"] if r["level"] == "camera"} == set(CAMERAS)
    for row in body["rows"]:
        assert row["ratio"] is None and row["observed"] is None
        assert sum(row[k] for k in ("up_s", "degraded_s", "down_s", "unknown_s")) == 0


def test_the_csv_keeps_its_first_columns_and_adds_the_observed_period(supervised: Service) -> None:
    text = supervised.client.get(
        "/api/v1/availability?month=2026-03&format=csv", headers=supervised.headers("operator")
    ).text
    assert text.splitlines()[0] == (
        "month,level,key,ratio,observed,up_s,degraded_s,down_s,maintenance_s,unknown_s,"
        "period_start,period_end,observed_until,elapsed_s,elapsed_share"
    )


def test_the_french_csv_opens_as_is_in_a_french_spreadsheet(supervised: Service) -> None:
    headers = supervised.headers("operator")
    english = supervised.client.get(
        "/api/v1/availability?month=2026-03&format=csv", headers=headers
    ).text
    french = supervised.client.get(
        "/api/v1/availability?month=2026-03&format=csv&lang=fr", headers=headers
    ).text
    assert french.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(french.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["mois", "niveau", "clé", "disponibilité (%)", "part observée (%)"]
    by_key = {row["key"]: row for row in csv.DictReader(io.StringIO(english))}
    assert len(rows) - 1 == len(by_key)
    for row in rows[1:]:
        source = by_key[row[2]]
        if source["ratio"]:
            assert float(row[3].replace(",", ".")) == pytest.approx(
                100 * float(source["ratio"]), abs=1e-3
            )
            assert "." not in row[3]
        assert row[1] in {"caméra", "commune", "intercommunalité", "toutes"}


def test_a_french_csv_cell_is_never_a_formula() -> None:
    assert _cell_fr("key", '=HYPERLINK("http://x","clic")') == '\'=HYPERLINK("http://x","clic")'
    assert _cell_fr("key", "-1+1") == "'-1+1"
    assert _cell_fr("key", "M-27229-020-3") == "M-27229-020-3"
    assert _cell_fr("ratio", 0.98765) == "98,765"
