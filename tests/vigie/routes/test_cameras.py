"""The camera inventory: scoping in SQL, 404 outside scope, credentials write-only and encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.helpers.service import Service
from vigie import db
from vigie.credentials import CredentialsError, KeyRing, open_camera_password
from vigie.models import AuditEvent, Camera

PASSWORDS = {
    "CAM-27056-01": "Onvif!Pass-56",
    "CAM-27229-01": "Onvif!Pass-229",
    "CAM-27681-01": "Onvif!Pass-681",
}


def camera(camera_id: str, commune: str) -> dict:
    return {
        "id": camera_id,
        "name": f"Camera {camera_id}",
        "commune": commune,
        "latitude": 49.02,
        "longitude": 1.15,
        "host": "10.27.0.10",
        "port": 8080,
        "username": "vigie",
        "password": PASSWORDS[camera_id],
        "model": "Q6215-LE",
    }


@pytest.fixture
def cameras(service: Service) -> Service:
    admin = service.headers("admin")
    for camera_id in PASSWORDS:
        commune = camera_id.split("-")[1]
        response = service.client.post(
            "/api/v1/cameras", headers=admin, json=camera(camera_id, commune)
        )
        assert response.status_code == 201, response.text
    return service


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def test_a_commune_user_sees_only_its_own_cameras(cameras: Service) -> None:
    client, mairie = cameras.client, cameras.headers("mairie-27056")
    assert ids(client.get("/api/v1/cameras", headers=mairie)) == ["CAM-27056-01"]
    assert client.get("/api/v1/cameras/CAM-27056-01", headers=mairie).status_code == 200
    foreign = client.get("/api/v1/cameras/CAM-27681-01", headers=mairie)
    missing = client.get("/api/v1/cameras/CAM-00000-00", headers=mairie)
    # Another commune's camera and a camera that does not exist look exactly alike.
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["title"] == missing.json()["title"]


def test_an_epci_scope_covers_its_communes(cameras: Service) -> None:
    epci_b = cameras.headers("epci-b")
    assert ids(cameras.client.get("/api/v1/cameras", headers=epci_b)) == ["CAM-27681-01"]


def test_department_roles_see_every_camera(cameras: Service) -> None:
    for user in ("admin", "engineer", "operator", "gendarme"):
        listed = ids(cameras.client.get("/api/v1/cameras", headers=cameras.headers(user)))
        assert listed == sorted(PASSWORDS)


def test_configuration_only_for_the_centre_and_passwords_for_nobody(cameras: Service) -> None:
    for user in ("admin", "engineer", "operator", "gendarme", "mairie-27056", "epci-b"):
        response = cameras.client.get("/api/v1/cameras", headers=cameras.headers(user))
        for secret in PASSWORDS.values():
            assert secret not in response.text
        first = response.json()[0]
        if user in ("gendarme", "mairie-27056", "epci-b"):
            assert "access" not in first
            assert "10.27.0.10" not in response.text
        else:
            assert first["access"] == {
                "host": "10.27.0.10",
                "port": 8080,
                "username": "vigie",
                "has_password": True,
                "basic_auth": False,
                "tls": False,  # and no tls_fingerprint: none pinned
            }


def test_commune_users_cannot_write_and_scoped_operators_stay_in_scope(cameras: Service) -> None:
    mairie = cameras.headers("mairie-27056")
    changed = cameras.client.patch(
        "/api/v1/cameras/CAM-27056-01", headers=mairie, json={"name": "mine"}
    )
    assert changed.status_code == 403
    admin = cameras.headers("admin")
    unknown_commune = cameras.client.post(
        "/api/v1/cameras", headers=admin, json={**camera("CAM-27056-01", "27999"), "id": "X1"}
    )
    assert unknown_commune.status_code == 422
    assert "commune 27999" in unknown_commune.json()["detail"]
    duplicate = cameras.client.post(
        "/api/v1/cameras", headers=admin, json=camera("CAM-27056-01", "27056")
    )
    assert duplicate.status_code == 409


def test_updates_and_deletes_are_audited_without_the_password(cameras: Service) -> None:
    admin = cameras.headers("operator")
    response = cameras.client.patch(
        "/api/v1/cameras/CAM-27229-01",
        headers=admin,
        json={"password": "Brand-New-Pass-229", "port": 80},
    )
    assert response.status_code == 200
    assert response.json()["access"]["port"] == 80
    assert cameras.client.delete("/api/v1/cameras/CAM-27681-01", headers=admin).status_code == 204
    assert cameras.client.get("/api/v1/cameras/CAM-27681-01", headers=admin).status_code == 404
    with db.session_scope(db.session_factory(cameras.engine)) as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.detail, AuditEvent.actor)
            .where(AuditEvent.object_type == "camera")
            .order_by(AuditEvent.id)
        ).all()
        stored = session.get(Camera, "CAM-27229-01")
        ring = KeyRing.from_settings(cameras.settings)
        assert stored is not None
        assert open_camera_password(ring, stored) == "Brand-New-Pass-229"  # for port 80
    assert [e[0] for e in events] == ["camera.create"] * 3 + ["camera.update", "camera.delete"]
    assert '"password"' in events[3][2] and "Brand-New" not in events[3][2]
    assert events[3][3] == "operator"


def test_a_new_address_needs_the_password_again(cameras: Service) -> None:
    operator = cameras.headers("operator")
    url = "/api/v1/cameras/CAM-27056-01"
    moved = cameras.client.patch(url, headers=operator, json={"host": "10.27.0.99", "port": 80})
    assert moved.status_code == 422
    assert moved.json()["detail"].startswith("camera CAM-27056-01: a new host and port needs")
    # The same address again, or what is not the address, needs nothing.
    same = cameras.client.patch(url, headers=operator, json={"port": 8080, "basic_auth": True})
    assert same.status_code == 200 and same.json()["access"]["basic_auth"] is True
    # With the password, or explicitly none, the camera moves.
    again = {"port": 80, "password": PASSWORDS["CAM-27056-01"]}
    assert cameras.client.patch(url, headers=operator, json=again).status_code == 200
    cleared = cameras.client.patch(url, headers=operator, json={"port": 81, "password": None})
    assert cleared.status_code == 200 and cleared.json()["access"]["has_password"] is False
    # A camera without a password moves freely.
    free = cameras.client.patch(url, headers=operator, json={"host": "10.27.0.98"})
    assert free.status_code == 200
    with db.session_scope(db.session_factory(cameras.engine)) as session:
        stored = session.get(Camera, "CAM-27229-01")
        stored.port = 80  # an edit behind the API's back: the password no longer opens
        with pytest.raises(CredentialsError, match="not given for its current address") as err:
            open_camera_password(KeyRing.from_settings(cameras.settings), stored)
        assert "10.27.0.10" not in str(err.value) and "80" not in str(err.value)


def test_the_database_bytes_never_hold_a_camera_password(cameras: Service) -> None:
    url = cameras.settings.db_url
    cameras.engine.dispose()
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        with db.make_engine(url).connect() as connection:  # fold the WAL into the file
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        dump = b"".join(p.read_bytes() for p in files)
    else:
        # Every column of every table, as the server sends it to anyone who can read the tables.
        engine = db.make_engine(url)
        with engine.connect() as connection:
            tables = (
                connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
                .scalars()
                .all()
            )
            rows = [
                str(row)
                for table in tables
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            ]
        engine.dispose()
        dump = "\n".join(rows).encode()
    assert b"CAM-27056-01" in dump  # the dump does hold the cameras...
    for secret in PASSWORDS.values():
        assert secret.encode() not in dump  # ...but none of their passwords


def test_a_tls_camera_s_certificate_is_trusted_by_an_administrator_only(cameras: Service) -> None:
    client, admin, operator = cameras.client, cameras.headers("admin"), cameras.headers("operator")
    url = "/api/v1/cameras/CAM-27229-01"
    fingerprint = "ab" * 32
    # not a TLS camera yet: nothing to trust
    refused = client.put(f"{url}/certificate", headers=admin, json={"sha256": fingerprint})
    assert refused.status_code == 422 and "not a TLS camera" in refused.json()["detail"]
    switched = client.patch(url, headers=operator, json={"tls": True})
    assert switched.status_code == 200
    assert switched.json()["access"]["tls"] is True
    assert "tls_fingerprint" not in switched.json()["access"]  # pinned on the next contact
    forbidden = client.put(f"{url}/certificate", headers=operator, json={"sha256": fingerprint})
    assert forbidden.status_code == 403
    malformed = client.put(f"{url}/certificate", headers=admin, json={"sha256": "AB" * 32})
    assert malformed.status_code == 422  # lower-case hex, 64 digits
    trusted = client.put(f"{url}/certificate", headers=admin, json={"sha256": fingerprint})
    assert trusted.status_code == 200
    assert trusted.json()["access"]["tls_fingerprint"] == fingerprint
    with db.session_scope(db.session_factory(cameras.engine)) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "camera.certificate_trusted")
        ).one()
    assert event.object_id == "CAM-27229-01" and fingerprint in event.detail
    # turning TLS off and on again forgets the pin: the next contact pins again
    client.patch(url, headers=operator, json={"tls": False})
    again = client.patch(url, headers=operator, json={"tls": True})
    assert "tls_fingerprint" not in again.json()["access"]
