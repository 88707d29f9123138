"""Camera passwords bound to their cameras' addresses, and HTTP Basic only where allowed.

Until 0005 a camera's password was authenticated with the camera id alone, so a changed host or
port kept it and Vigie sent it to the new address. From here its associated data also holds the
host and port (``vigie.credentials.camera_context``): this migration re-encrypts every stored
password that way, under the current key, which needs ``VIGIE_CREDENTIALS_KEYS``. It refuses to
run without the keys when passwords are stored (they would all stop working), before changing
anything. A password that did not decrypt before (its key left the ring, an altered row) is left
as it was, and named. Also adds ``cameras.basic_auth`` (off: Digest and WS-Security only).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import json
import logging

import sqlalchemy as sa
from alembic import context, op

from vigie.credentials import CredentialsError, KeyRing
from vigie.errors import ConfigurationError
from vigie.settings import parse_key_ring

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("vigie.migrations")

CAMERAS = sa.table(
    "cameras",
    sa.column("id", sa.String),
    sa.column("host", sa.String),
    sa.column("port", sa.Integer),
    sa.column("password_encrypted", sa.Text),
)


def _by_id(camera_id: str, _host: str, _port: int) -> str:
    """The associated data up to 0005 (frozen here: the code's may change later)."""
    return f"camera:{camera_id}"


def _by_address(camera_id: str, host: str, port: int) -> str:
    """The associated data from 0006 (as ``vigie.credentials.camera_context`` then)."""
    return "camera:" + json.dumps(
        [camera_id, host.strip().lower(), int(port)], separators=(",", ":")
    )


def _reencrypt(old, new, direction: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(CAMERAS.c.id, CAMERAS.c.host, CAMERAS.c.port, CAMERAS.c.password_encrypted)
        .where(CAMERAS.c.password_encrypted != "")
        .order_by(CAMERAS.c.id)
    ).all()
    if not rows:
        return
    keys = context.config.attributes.get("credentials_keys")
    if not keys:
        raise ConfigurationError(
            f"migration 0006 ({direction}) re-encrypts the {len(rows)} stored camera "
            "password(s) and needs VIGIE_CREDENTIALS_KEYS: set it as for `vigie serve`, then "
            "run the migration again (nothing was changed)"
        )
    ring = KeyRing(parse_key_ring(keys))
    for camera_id, host, port, stored in rows:
        try:
            password = ring.decrypt(
                stored, context=old(camera_id, host, port), label=f"camera {camera_id}"
            )
        except CredentialsError as err:
            log.warning("migration 0006: %s; left as it was (give its password again)", err)
            continue
        bind.execute(
            sa.update(CAMERAS)
            .where(CAMERAS.c.id == camera_id)
            .values(password_encrypted=ring.encrypt(password, context=new(camera_id, host, port)))
        )


def upgrade() -> None:
    _reencrypt(_by_id, _by_address, "upgrade")  # first: if it refuses, nothing has changed
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(
            sa.Column("basic_auth", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    _reencrypt(_by_address, _by_id, "downgrade")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("basic_auth")
