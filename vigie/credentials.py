"""Camera credentials encrypted at rest with AES-256-GCM under a ring of keys from the settings.

A stored value reads ``v1:KEY_ID:BASE64(nonce | ciphertext | tag)`` (a snapshot, binary data:
``v1:KEY_ID:`` then the same bytes, not encoded). A camera's password is
authenticated with the camera id and the address it was given for (associated data,
:func:`camera_context`): a ciphertext copied onto another camera row, or left behind when the
camera's host or port changes (through the API, an import or an edit of the database), does not
decrypt, so the password can only ever be sent to the address it was stored for. The first key
of ``VIGIE_CREDENTIALS_KEYS`` encrypts; every key decrypts, which is what makes rotation
possible: add a new key in front, run ``vigie keys rotate``, drop the old one.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.errors import VigieError
from vigie.models import Camera
from vigie.redaction import SECRETS
from vigie.settings import Settings, parse_key_ring

VERSION = "v1"


class CredentialsError(VigieError):
    """Camera credentials cannot be encrypted or decrypted: check VIGIE_CREDENTIALS_KEYS."""

    http_status = 503


def generate_key() -> str:
    """A new ring entry ``ID:BASE64`` (32 random bytes) to put in VIGIE_CREDENTIALS_KEYS."""
    key_id = "k" + secrets.token_hex(3)
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode('ascii').rstrip('=')}"


class KeyRing:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise CredentialsError("no credentials key")
        self.current_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        if settings.credentials_keys is None:
            raise CredentialsError(
                "VIGIE_CREDENTIALS_KEYS is not set: camera passwords cannot be stored or read; "
                "set it to the output of `vigie keys generate`"
            )
        return cls(parse_key_ring(settings.credentials_keys.get_secret_value()))

    def encrypt(self, plaintext: str, *, context: str) -> str:
        SECRETS.add(plaintext)
        nonce = os.urandom(12)  # 96-bit random nonces: safe far beyond our number of writes
        sealed = self._ciphers[self.current_id].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{VERSION}:{self.current_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def encrypt_bytes(self, data: bytes, *, context: str) -> bytes:
        """Like :meth:`encrypt` for binary data (a snapshot, not a secret to redact from logs),
        and stored as binary: ``v1:KEY_ID:`` then nonce, ciphertext and tag as they are. Base64
        text cost 5.5 M instructions of a 1080p full check's 81 M (the encoding and its copies)
        and a third more bytes written, for a column no one reads as text
        (``benchmarks/supervision/full_check_instructions.json``)."""
        nonce = os.urandom(12)
        sealed = self._ciphers[self.current_id].encrypt(nonce, data, context.encode("utf-8"))
        return b"".join((f"{VERSION}:{self.current_id}:".encode("ascii"), nonce, sealed))

    def decrypt_bytes(self, stored: bytes, *, context: str, label: str | None = None) -> bytes:
        """What :meth:`encrypt_bytes` sealed under ``context``; CredentialsError otherwise.

        ``label`` names the data in messages instead of ``context`` (which may say too much)."""
        version, _, rest = bytes(stored).partition(b":")
        key_id, sep, blob = rest.partition(b":")
        if version != VERSION.encode("ascii") or not sep or len(blob) < 12 + 16:
            raise CredentialsError(f"{label or context}: not encrypted data of this version")
        cipher = self._cipher(key_id.decode("ascii", "replace"), label or context)
        try:
            return cipher.decrypt(blob[:12], blob[12:], context.encode("utf-8"))
        except InvalidTag as err:
            raise CredentialsError(
                f"{label or context}: the stored data do not authenticate (altered or moved)"
            ) from err

    def _cipher_of(self, stored: str, label: str) -> AESGCM:
        return self._cipher(key_id_of(stored), label)

    def _cipher(self, key_id: str, label: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CredentialsError(
                f"{label}: encrypted with key {key_id!r}, which VIGIE_CREDENTIALS_KEYS no longer "
                "holds: put it back, then run `vigie keys rotate`"
            )
        return cipher

    def decrypt(self, stored: str, *, context: str, label: str | None = None) -> str:
        """What :meth:`encrypt` sealed under ``context``; CredentialsError otherwise."""
        cipher = self._cipher_of(stored, label or context)
        blob = base64.b64decode(stored.split(":", 2)[2])
        try:
            plaintext = cipher.decrypt(blob[:12], blob[12:], context.encode("utf-8")).decode()
        except InvalidTag as err:
            raise CredentialsError(
                f"{label or context}: the stored credentials do not authenticate (altered or moved)"
            ) from err
        SECRETS.add(plaintext)
        return plaintext


def key_id_of(stored: str) -> str:
    version, sep, rest = stored.partition(":")
    if version != VERSION or not sep or ":" not in rest:
        raise CredentialsError("not an encrypted credential of this version")
    return rest.split(":", 1)[0]


class CameraAt(Protocol):
    """What a camera's password is bound to: the camera and where it answers."""

    id: str
    host: str
    port: int


def camera_context(camera_id: str, host: str, port: int) -> str:
    """The associated data of a camera's stored password: the camera and its address.

    Unambiguous (JSON) and case-insensitive on the host name; any other change of the address
    makes the ciphertext fail to authenticate, so nothing can be sent there.
    """
    return "camera:" + json.dumps(
        [camera_id, host.strip().lower(), int(port)], separators=(",", ":")
    )


def seal_camera_password(ring: KeyRing, camera: CameraAt, password: str) -> str:
    """``password`` encrypted for ``camera`` at its current host and port."""
    return ring.encrypt(password, context=camera_context(camera.id, camera.host, camera.port))


def open_camera_password(ring: KeyRing, camera: Camera) -> str:
    """The camera's password, only if it was stored for the camera's current address.

    The message never names the address: it may reach users who may not see it.
    """
    context = camera_context(camera.id, camera.host, camera.port)
    try:
        return ring.decrypt(camera.password_encrypted, context=context, label=f"camera {camera.id}")
    except CredentialsError as err:
        if "do not authenticate" not in str(err):
            raise
        raise CredentialsError(
            f"camera {camera.id}: its stored password was not given for its current address "
            "(host or port changed without the password, or the row was altered), so it is "
            "not used: give the camera's password again"
        ) from err


def rotate(session: Session, ring: KeyRing) -> tuple[int, int]:
    """Re-encrypt every camera password under the current key: (re-encrypted, already current)."""
    rotated = current = 0
    for camera in session.scalars(select(Camera).where(Camera.password_encrypted != "")):
        if key_id_of(camera.password_encrypted) == ring.current_id:
            current += 1
            continue
        camera.password_encrypted = seal_camera_password(
            ring, camera, open_camera_password(ring, camera)
        )
        rotated += 1
    session.flush()
    return rotated, current
