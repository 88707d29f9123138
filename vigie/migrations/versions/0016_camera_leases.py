"""Camera leases, so that several supervisors on one PostgreSQL database share the cameras.

``camera_leases`` holds, per camera, the run that checks it (``run_id``; NULL when free), the
lease's ``epoch`` (raised at every taking; results carry it and the database refuses those of
an older one) and ``expires_at`` (renewed with the holder's rounds; past it, another node may
take the camera). ``supervisor_runs`` gains the node's name and ``seen_at``, its last lease
round in the database's own time. README: How `vigie serve` supervises, Several nodes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_camera_leases_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_leases"),
    )
    op.create_index("ix_camera_leases_run_id", "camera_leases", ["run_id"])
    with op.batch_alter_table("supervisor_runs") as batch:
        batch.add_column(sa.Column("node", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supervisor_runs") as batch:
        batch.drop_column("seen_at")
        batch.drop_column("node")
    op.drop_index("ix_camera_leases_run_id", table_name="camera_leases")
    op.drop_table("camera_leases")
