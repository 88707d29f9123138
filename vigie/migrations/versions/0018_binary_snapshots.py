"""The last snapshot of each camera stored as binary: ``camera_pictures.snapshot``.

Until 0017 the encrypted JPEG was text, ``v1:KEY_ID:BASE64(nonce | ciphertext | tag)``; from
here it is ``v1:KEY_ID:`` then the same bytes (``vigie.credentials.KeyRing.encrypt_bytes``):
a third fewer bytes written at every full check, and no base64 to encode (5.5 M instructions
of a 1080p full check's 81 M with its copies,
``benchmarks/supervision/full_check_instructions.json``). Nothing is decrypted, so no key is
needed: the ciphertext moves as it is, both ways. A value that is not of the expected shape
(altered by hand) is kept byte for byte, and named in the log: it did not decrypt before and
does not after.

Rows are converted a few at a time (a 1080p snapshot is 300-400 KB of text: 5,000 cameras
would not fit in memory at once).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

import base64
import binascii
import logging
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

log = logging.getLogger("vigie.migrations")

BATCH = 50
"""Rows read per statement: 50 snapshots are 15-20 MB in memory."""


def _to_binary(camera_id: str, stored: str | bytes) -> bytes:
    if not isinstance(stored, str):  # already bytes (SQLite keeps what it was given)
        return bytes(stored)
    version, key_id, encoded = [*stored.split(":", 2), "", ""][:3]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        blob = b""
    if version != "v1" or not key_id or len(blob) < 12 + 16:
        log.warning(
            "migration 0018: camera %s: its snapshot is not one Vigie stored; kept as is", camera_id
        )
        return stored.encode("utf-8")
    return f"{version}:{key_id}:".encode("ascii") + blob


def _to_text(camera_id: str, stored: str | bytes) -> str:
    if isinstance(stored, str):
        return stored
    version, sep, rest = bytes(stored).partition(b":")
    key_id, sep2, blob = rest.partition(b":")
    if version != b"v1" or not sep or not sep2 or not key_id or len(blob) < 12 + 16:
        log.warning(
            "migration 0018: camera %s: its snapshot is not one Vigie stored; kept as is", camera_id
        )
        return bytes(stored).decode("utf-8", "replace")
    return f"v1:{key_id.decode('ascii', 'replace')}:{base64.b64encode(blob).decode('ascii')}"


def _convert(new_type: sa.types.TypeEngine, convert: Callable[[str, object], object]) -> None:
    """``snapshot`` rewritten into a new column of ``new_type``, which then takes its name."""
    with op.batch_alter_table("camera_pictures") as batch:
        batch.add_column(sa.Column("snapshot_converted", new_type, nullable=True))
    pictures = sa.table(
        "camera_pictures",
        sa.column("camera_id", sa.String),
        sa.column("snapshot"),
        sa.column("snapshot_converted", new_type),
    )
    bind = op.get_bind()
    ids = (
        bind.execute(
            sa.select(pictures.c.camera_id)
            .where(pictures.c.snapshot.is_not(None))
            .order_by(pictures.c.camera_id)
        )
        .scalars()
        .all()
    )
    for start in range(0, len(ids), BATCH):
        rows = bind.execute(
            sa.select(pictures.c.camera_id, pictures.c.snapshot).where(
                pictures.c.camera_id.in_(ids[start : start + BATCH])
            )
        ).all()
        for camera_id, stored in rows:
            bind.execute(
                sa.update(pictures)
                .where(pictures.c.camera_id == camera_id)
                .values(snapshot_converted=convert(camera_id, stored))
            )
    if ids:
        log.info("migration 0018: %d snapshots converted", len(ids))
    with op.batch_alter_table("camera_pictures") as batch:
        batch.drop_column("snapshot")
        batch.alter_column("snapshot_converted", new_column_name="snapshot")


def upgrade() -> None:
    _convert(sa.LargeBinary(), _to_binary)


def downgrade() -> None:
    _convert(sa.Text(), _to_text)
