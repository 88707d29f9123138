"""A multi-sensor camera's other video sources: each its own reference and previous picture.

``camera_pictures`` keeps the main video source's (every camera's); ``sensor_pictures`` one row
per other video source (README: Cameras we supervise), no snapshot (the main one is shown).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_pictures",
        sa.Column(
            "camera_id",
            sa.String(64),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("reference", sa.LargeBinary(), nullable=True),
        sa.Column("reference_frames", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("previous", sa.LargeBinary(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sensor_pictures")
