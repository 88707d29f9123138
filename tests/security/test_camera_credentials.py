"""Attacks on the cameras' credentials, through the real API, CLI and database, against a rogue
"camera" that asks for HTTP Basic and records what it receives (tests/helpers/rogue_camera.py).

- An operator moves a camera to an address of theirs (PATCH host/port, a re-imported inventory
  file, or an edit of the database) and asks for a fresh snapshot: the stored password must not
  follow, in any form (Basic, Digest, WS-Security digest).
- A camera not configured for HTTP Basic asks for it: refused, nothing sent.
- A failed fresh snapshot must not tell the gendarmerie how the camera is reached.
- No role reads a password back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.helpers import cli
from tests.helpers.http_server import free_port
from tests.helpers.rogue_camera import RogueCamera, rogue_camera
from tests.helpers.service import ROLE_USER, Service, make_settings, running_service
from vigie import db
from vigie.models import Camera

USERNAME, SECRET = "admin", "Zq7-onvif-S3cret"
REASON = {"reason": "contrôle du cadrage après travaux", "fresh": True}


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    with running_service(make_settings(database_url)) as service:
        yield service


@pytest.fixture
def rogue() -> Iterator[RogueCamera]:
    with rogue_camera() as camera:
        yield camera


def _create(service: Service, port: int, **extra: object) -> None:
    body = {
        "id": "cam-1",
        "name": "Pont de l'Arche, rond-point",
        "commune": "27056",
        "latitude": 49.3,
        "longitude": 1.15,
        "host": "127.0.0.1",
        "port": port,
        "username": USERNAME,
        "password": SECRET,
        **extra,
    }
    response = service.client.post(
        "/api/v1/cameras", headers=service.headers("operator"), json=body
    )
    assert response.status_code == 201, response.text


def _fresh(service: Service, user: str = "operator"):
    return service.client.post(
        "/api/v1/cameras/cam-1/snapshot", headers=service.headers(user), json=REASON
    )


def test_a_patched_port_does_not_carry_the_password_to_the_new_address(
    service: Service, rogue: RogueCamera
) -> None:
    _create(service, free_port())  # the real camera's address
    patched = service.client.patch(
        "/api/v1/cameras/cam-1", headers=service.headers("operator"), json={"port": rogue.port}
    )
    _fresh(service)
    assert rogue.credentials_seen(USERNAME, SECRET) == []
    # Moving a camera asks for its password again: it is bound to the address it was given for.
    assert patched.status_code == 422, patched.text
    assert "password" in patched.json()["detail"]


def test_a_patched_host_does_not_carry_the_password_to_the_new_address(
    service: Service, rogue: RogueCamera
) -> None:
    _create(service, rogue.port, host="127.0.0.2")  # nothing of ours listens there
    patched = service.client.patch(
        "/api/v1/cameras/cam-1", headers=service.headers("operator"), json={"host": "127.0.0.1"}
    )
    _fresh(service)
    assert rogue.credentials_seen(USERNAME, SECRET) == []
    assert patched.status_code == 422, patched.text


def test_an_address_changed_in_the_database_leaves_the_password_unusable(
    service: Service, rogue: RogueCamera
) -> None:
    _create(service, free_port())
    with db.session_scope(db.session_factory(service.engine)) as session:
        session.execute(update(Camera).where(Camera.id == "cam-1").values(port=rogue.port))
    answer = _fresh(service)
    assert rogue.credentials_seen(USERNAME, SECRET) == []
    assert answer.status_code == 503, answer.text
    detail = answer.json()["detail"]
    assert "cam-1" in detail and "password" in detail and str(rogue.port) not in detail


def test_a_reimported_inventory_does_not_carry_the_password_to_the_new_address(
    service: Service, rogue: RogueCamera, tmp_path: Path
) -> None:
    _create(service, free_port())
    inventory = tmp_path / "cameras.csv"
    inventory.write_text(
        "id,name,commune,latitude,longitude,host,port,username\n"
        f"cam-1,Pont de l'Arche,27056,49.3,1.15,127.0.0.1,{rogue.port},{USERNAME}\n",
        encoding="utf-8",
    )
    settings = service.settings
    imported = cli.run(
        "cameras",
        "import",
        str(inventory),
        env={
            "VIGIE_DATABASE_URL": settings.db_url,
            "VIGIE_ENVIRONMENT": "production",
            "VIGIE_SECRET_KEY": settings.secret_key.get_secret_value(),
            "VIGIE_CREDENTIALS_KEYS": settings.credentials_keys.get_secret_value(),
        },
    )
    _fresh(service)
    assert rogue.credentials_seen(USERNAME, SECRET) == []
    assert imported.returncode == 1, imported.stdout + imported.stderr
    assert "line 2 (camera cam-1)" in imported.stderr and "password" in imported.stderr


def test_a_moved_camera_given_its_password_again_gets_it_there(
    service: Service, rogue: RogueCamera
) -> None:
    """The operator's way to move a camera: the new address and the password together."""
    _create(service, free_port(), basic_auth=True)
    patched = service.client.patch(
        "/api/v1/cameras/cam-1",
        headers=service.headers("operator"),
        json={"port": rogue.port, "password": SECRET},
    )
    assert patched.status_code == 200, patched.text
    answer = _fresh(service)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"


def test_basic_is_refused_to_a_camera_not_configured_for_it(
    service: Service, rogue: RogueCamera
) -> None:
    _create(service, rogue.port)  # stored for this address, but Basic not allowed (the default)
    answer = _fresh(service)
    basic = [r for r in rogue.requests() if r.headers.get("authorization", "").startswith("Basic")]
    assert basic == []
    assert not any(SECRET in r.text() for r in rogue.requests())
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert "cam-1" in detail and "Basic" in detail
    # Allowed on purpose, for this camera only: Basic is answered.
    allowed = service.client.patch(
        "/api/v1/cameras/cam-1", headers=service.headers("operator"), json={"basic_auth": True}
    )
    assert allowed.status_code == 200 and allowed.json()["access"]["basic_auth"] is True
    assert _fresh(service).status_code == 200
    (basic,) = [r for r in rogue.requests() if r.headers.get("authorization", "")]
    assert basic.headers["authorization"].startswith("Basic ")


def test_a_failed_fresh_snapshot_does_not_tell_the_gendarmerie_the_address(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there: the camera is unreachable
    _create(service, port)
    caplog.set_level(logging.INFO)
    answer = _fresh(service, "gendarme")
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert "cam-1" in detail
    assert "127.0.0.1" not in detail and str(port) not in detail, detail
    # The operator, who may see how cameras are reached, gets the detail; the log always has it.
    operator = _fresh(service, "operator").json()["detail"]
    assert f"127.0.0.1:{port}" in operator
    assert any(f"127.0.0.1:{port}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("role", sorted(ROLE_USER))
def test_no_role_reads_a_camera_password_back(service: Service, role: str) -> None:
    _create(service, free_port())
    headers = service.headers(ROLE_USER[role])
    for url in ("/api/v1/cameras", "/api/v1/cameras/cam-1", "/api/v1/status/cam-1"):
        response = service.client.get(url, headers=headers)
        assert SECRET not in response.text, url
        assert "password_encrypted" not in response.text and "v1:k" not in response.text, url
