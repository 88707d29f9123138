"""AES-GCM camera credentials: authenticated, bound to their camera and its address, rotatable."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from vigie import db
from vigie.credentials import (
    CredentialsError,
    KeyRing,
    camera_context,
    generate_key,
    open_camera_password,
    rotate,
    seal_camera_password,
)
from vigie.models import Camera, Commune
from vigie.settings import load_settings, parse_key_ring


def ring(*entries: str) -> KeyRing:
    return KeyRing(parse_key_ring(",".join(entries)))


def test_round_trip_and_fresh_nonce_every_time() -> None:
    keys = ring(generate_key())
    first = keys.encrypt("Onvif!Pass", context="camera:A")
    second = keys.encrypt("Onvif!Pass", context="camera:A")
    assert first != second
    assert first.startswith(f"v1:{keys.current_id}:")
    assert "Onvif!Pass" not in first
    assert keys.decrypt(first, context="camera:A") == "Onvif!Pass"


def test_a_ciphertext_moved_to_another_camera_or_altered_does_not_decrypt() -> None:
    keys = ring(generate_key())
    sealed = keys.encrypt("Onvif!Pass", context="camera:A")
    with pytest.raises(CredentialsError, match=r"camera:B: .*do not authenticate"):
        keys.decrypt(sealed, context="camera:B")
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(CredentialsError, match="do not authenticate"):
        keys.decrypt(flipped, context="camera:A")


def test_a_missing_key_says_what_to_do() -> None:
    old, new = generate_key(), generate_key()
    sealed = ring(old).encrypt("x" * 12, context="camera:A")
    with pytest.raises(CredentialsError, match="no longer holds: put it back"):
        ring(new).decrypt(sealed, context="camera:A")
    with pytest.raises(CredentialsError, match="VIGIE_CREDENTIALS_KEYS is not set"):
        KeyRing.from_settings(load_settings())


def test_a_snapshot_is_sealed_as_binary_bound_to_its_camera() -> None:
    """Binary data (a snapshot) is stored as bytes, not base64: the JPEG's size plus 36 bytes;
    moved, altered, cut, of another version or of a dropped key, it is refused by name."""
    old, new = generate_key(), generate_key()
    keys = ring(new, old)
    jpeg = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
    sealed = keys.encrypt_bytes(jpeg, context="snapshot:A")
    assert isinstance(sealed, bytes) and sealed.startswith(f"v1:{keys.current_id}:".encode())
    assert len(sealed) == len(f"v1:{keys.current_id}:") + 12 + len(jpeg) + 16
    assert jpeg[:64] not in sealed
    assert keys.decrypt_bytes(sealed, context="snapshot:A") == jpeg
    assert keys.decrypt_bytes(memoryview(sealed), context="snapshot:A") == jpeg
    with pytest.raises(CredentialsError, match=r"snapshot:B: .*do not authenticate"):
        keys.decrypt_bytes(sealed, context="snapshot:B")
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(CredentialsError, match=r"camera A's snapshot: .*do not authenticate"):
        keys.decrypt_bytes(altered, context="snapshot:A", label="camera A's snapshot")
    for broken in (sealed[:30], b"v2" + sealed[2:], b"v1" + sealed[3:], b""):
        with pytest.raises(CredentialsError, match="not encrypted data of this version"):
            keys.decrypt_bytes(broken, context="snapshot:A")
    with pytest.raises(CredentialsError, match="no longer holds: put it back"):
        ring(new).decrypt_bytes(ring(old).encrypt_bytes(jpeg, context="s"), context="s")


def test_rotation_re_encrypts_every_camera_under_the_new_key(engine: Engine) -> None:
    db.upgrade(engine)
    old, new = generate_key(), generate_key()
    now = datetime.now(UTC)
    with db.session_scope(db.session_factory(engine)) as session:
        session.add(Commune(code="27056", nom="Bernay", population=10000))
        session.flush()
        for n in range(3):
            camera_id = f"CAM-{n}"
            session.add(
                Camera(
                    id=camera_id,
                    name=camera_id,
                    commune_code="27056",
                    latitude=49.0,
                    longitude=1.0,
                    host="10.0.0.1",
                    port=80,
                    username="u",
                    password_encrypted=ring(old).encrypt(
                        f"secret-{n}", context=camera_context(camera_id, "10.0.0.1", 80)
                    ),
                    model="",
                    created_at=now,
                    updated_at=now,
                )
            )
    both = ring(new, old)
    with db.session_scope(db.session_factory(engine)) as session:
        assert rotate(session, both) == (3, 0)
    with db.session_scope(db.session_factory(engine)) as session:
        assert rotate(session, both) == (0, 3)
        only_new = ring(new)
        for camera in session.query(Camera).order_by(Camera.id):
            password = open_camera_password(only_new, camera)
            assert password == f"secret-{camera.id[-1]}"


@dataclass
class _Camera:
    id: str
    host: str
    port: int
    password_encrypted: str = ""


def test_a_password_opens_only_at_the_address_it_was_stored_for() -> None:
    keys = ring(generate_key())
    camera = _Camera("CAM-1", "10.27.0.10", 80)
    camera.password_encrypted = seal_camera_password(keys, camera, "Onvif!Pass")
    assert open_camera_password(keys, camera) == "Onvif!Pass"
    assert open_camera_password(keys, replace(camera, host="10.27.0.10 ")) == "Onvif!Pass"
    for moved in (
        replace(camera, port=8080),
        replace(camera, host="10.27.0.11"),
        replace(camera, id="CAM-2"),
    ):
        with pytest.raises(CredentialsError, match="not given for its current address") as err:
            open_camera_password(keys, moved)
        assert str(err.value).startswith(f"camera {moved.id}: ")
        assert moved.host.strip() not in str(err.value)  # users who may not see it read this
    # The associated data cannot be confused by what a host name may hold.
    assert camera_context("a", "b:1", 2) != camera_context("a", "b", 12)
    # What 0005 stored (the camera id alone) does not open either: 0006 re-encrypts it.
    legacy = replace(camera, password_encrypted=keys.encrypt("x" * 12, context="camera:CAM-1"))
    with pytest.raises(CredentialsError):
        open_camera_password(keys, legacy)
