"""Topology and correlation: masts and their path in the planned network, cause incidents.

``masts`` holds each mast's chain of branch closures up to the FttH node it joins (from the plan),
``cameras.mast_id`` its mast; ``incidents`` gains ``kind`` (camera, mast, branch), the cause in
French (``cause_label``), what it covers (``scope``) and, on a camera incident, the cause it is
suppressed by (``parent_id``). README: Correlation: one alarm per fault.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("commune", sa.String(5), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
    )
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("mast_id", sa.String(64), nullable=True))
        batch.create_index("ix_cameras_mast_id", ["mast_id"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="camera"))
        batch.add_column(sa.Column("cause_label", sa.Text(), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(140), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_index("ix_incidents_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_parent_id")
        batch.drop_column("parent_id")
        batch.drop_column("scope")
        batch.drop_column("cause_label")
        batch.drop_column("kind")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_index("ix_cameras_mast_id")
        batch.drop_column("mast_id")
    op.drop_table("masts")
