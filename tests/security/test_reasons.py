"""Hidden characters in reasons and comments (issue 16, item 8): a picture-view reason, a
reference-reset reason, a maintenance reason, an incident comment and a requisition's reason
holding a control character or a bidirectional override are refused with a 422 that names the
character (and not the text); the same words without it are accepted. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from httpx import Response
from sqlalchemy.engine import Engine

from tests.helpers.service import Service, make_settings, running_service
from tests.helpers.supervision_data import OUTAGE, T0, add_cameras, feed, ok, outage
from vigie import db
from vigie.clock import utcnow
from vigie.credentials import KeyRing
from vigie.supervisor import pictures

HIDDEN = {
    "right-to-left override": "\u202e",
    "right-to-left isolate": "\u2067",
    "zero-width space": "\u200b",
    "escape": "\x1b[2J",
    "NUL": "\x00",
    "line separator": "\u2028",
    "carriage return": "\r",
}
WORDS = "réquisition OPJ 2026-118 exe.gnp"


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    settings = make_settings(database_url)

    def prepare(engine: Engine) -> None:
        add_cameras(engine)
        with db.session_scope(db.session_factory(engine)) as session:
            pictures.store_snapshot(
                session, "cam-a1", keys=KeyRing.from_settings(settings), jpeg=b"\xff\xd8\xff", at=T0
            )

    with running_service(settings, prepare=prepare) as service:
        feed(service, [ok("cam-a1", T0), *outage("cam-a1", OUTAGE, failures=3, recoveries=0)])
        yield service


def _snapshot(service: Service, text: str) -> Response:
    return service.client.post(
        "/api/v1/cameras/cam-a1/snapshot",
        headers=service.headers("operator"),
        json={"reason": text},
    )


def _reset(service: Service, text: str) -> Response:
    return service.client.post(
        "/api/v1/cameras/cam-a1/reference/reset",
        headers=service.headers("operator"),
        json={"reason": text},
    )


def _maintenance(service: Service, text: str) -> Response:
    start = utcnow() + timedelta(hours=1)
    return service.client.post(
        "/api/v1/maintenance",
        headers=service.headers("operator"),
        json={
            "camera_id": "cam-a2",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "reason": text,
        },
    )


def _ack(service: Service, text: str) -> Response:
    headers = service.headers("operator")
    (item,) = service.client.get("/api/v1/incidents?camera=cam-a1", headers=headers).json()["items"]
    return service.client.post(
        f"/api/v1/incidents/{item['id']}/ack", headers=headers, json={"comment": text}
    )


def _requisition(service: Service, text: str) -> Response:
    return service.client.post(
        "/api/v1/register/requisitions",
        headers=service.headers("gendarme"),
        json={
            "latitude": 49.0,
            "longitude": 1.15,
            "start": T0.isoformat(),
            "end": OUTAGE.isoformat(),
            "reason": text,
        },
    )


ROUTES: dict[str, Callable[[Service, str], Response]] = {
    "picture view": _snapshot,
    "reference reset": _reset,
    "maintenance": _maintenance,
    "incident comment": _ack,
    "requisition": _requisition,
}


@pytest.mark.parametrize("route", ROUTES)
def test_hidden_characters_are_refused_with_a_clear_422(service: Service, route: str) -> None:
    send = ROUTES[route]
    for name, char in HIDDEN.items():
        text = f"réquisition OPJ 2026-118 {char}gnp.exe"
        response = send(service, text)
        assert response.status_code == 422, f"{route}, {name}: {response.status_code}"
        body = response.text
        assert "control and direction characters are not allowed" in body, body
        assert f"U+{ord(char[0]):04X}" in body
        assert "gnp.exe" not in body  # the problem names the character, never echoes the text
    assert send(service, WORDS).is_success, route


def test_a_comment_may_have_several_lines(service: Service) -> None:
    response = _ack(service, "Équipe prévenue.\r\nIntervention demain 8 h.")
    assert response.status_code == 200, response.text
    assert response.json()["comment"] == "Équipe prévenue.\nIntervention demain 8 h."
