"""Supervisor pictures and critical cameras: each camera's picture reference, its previous
working picture (for ``frozen``) and its last snapshot (JPEG, encrypted), and the ``critical``
flag of its mast.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(
            sa.Column("critical", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "camera_pictures",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.LargeBinary(), nullable=True),
        sa.Column("reference_frames", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("previous", sa.LargeBinary(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("snapshot_at", UTC, nullable=True),
        sa.Column("assessed_at", UTC, nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_camera_pictures_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_pictures"),
    )


def downgrade() -> None:
    op.drop_table("camera_pictures")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("critical")
