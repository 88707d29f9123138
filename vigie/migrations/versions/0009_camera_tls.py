"""Cameras over HTTPS: the flag, and the certificate fingerprint pinned on first use.

``cameras.tls`` makes the supervisor talk HTTPS to the camera; ``cameras.tls_fingerprint`` is
the SHA-256 (hex) of the certificate it presented first, or the one an administrator trusted
(README: Cameras over HTTPS). Any other certificate is refused before anything is sent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("tls", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("tls_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("tls_fingerprint")
        batch.drop_column("tls")
