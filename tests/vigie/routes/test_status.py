"""/api/v1/status: states of the cameras the caller may see, filters, scope, camera detail."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.helpers.service import EPCI_B, Service
from tests.helpers.supervision_data import OUTAGE, add_cameras


def states(service: Service, username: str, query: str = "") -> dict[str, str]:
    response = service.client.get(f"/api/v1/status{query}", headers=service.headers(username))
    assert response.status_code == 200, response.text
    return {view["camera_id"]: view["state"] for view in response.json()}


def test_operator_sees_every_camera_with_its_state_and_incident(supervised: Service) -> None:
    response = supervised.client.get("/api/v1/status", headers=supervised.headers("operator"))
    views = {view["camera_id"]: view for view in response.json()}
    assert {k: v["state"] for k, v in views.items()} == {
        "cam-a1": "down",
        "cam-a2": "up",
        "cam-b1": "down",
    }
    a1 = views["cam-a1"]
    assert a1["causes"] == ["unreachable"]
    assert a1["epci"] == "200070753"
    assert a1["since"].startswith("2026-03-02T09:01:00")
    assert a1["incident"]["key"] == "cam-a1/1" and a1["incident"]["acknowledged"] is False
    assert views["cam-a2"]["incident"] is None


def test_filters_by_state_commune_and_epci(supervised: Service) -> None:
    assert set(states(supervised, "operator", "?state=down")) == {"cam-a1", "cam-b1"}
    assert set(states(supervised, "operator", "?state=up&state=unknown")) == {"cam-a2"}
    assert set(states(supervised, "operator", "?commune=27229")) == {"cam-a2"}
    assert set(states(supervised, "operator", f"?epci={EPCI_B}")) == {"cam-b1"}
    bad = supervised.client.get(
        "/api/v1/status?state=broken", headers=supervised.headers("operator")
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_a_camera_never_checked_is_unknown(supervised: Service) -> None:
    add_cameras(supervised.engine, {"cam-new": "27056"})
    assert states(supervised, "operator", "?state=unknown") == {"cam-new": "unknown"}


def test_commune_users_see_only_their_cameras(supervised: Service) -> None:
    assert states(supervised, "mairie-27056") == {"cam-a1": "down"}
    assert states(supervised, "epci-b") == {"cam-b1": "down"}
    headers = supervised.headers("mairie-27056")
    response = supervised.client.get("/api/v1/status/cam-b1", headers=headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "no camera cam-b1"


def test_camera_detail_lists_latest_checks_newest_first(supervised: Service) -> None:
    headers = supervised.headers("gendarme")
    response = supervised.client.get("/api/v1/status/cam-a1?checks=2", headers=headers)
    assert response.status_code == 200
    detail = response.json()
    assert detail["state"] == "down"
    expected = [OUTAGE + timedelta(seconds=s) for s in (60, 30)]
    assert [datetime.fromisoformat(c["at"]) for c in detail["checks"]] == expected
    assert detail["checks"][0]["reachable"] is False
    assert detail["checks"][0]["observed"]["error"] == "timeout"
    assert detail["maintenance"] == []
