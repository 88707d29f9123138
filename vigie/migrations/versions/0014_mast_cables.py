"""Masts' primary cables, for the dashboard's map of a cause incident.

``masts.cable`` holds the mast's primary cable in WGS84 (``[[lon, lat], ...]``, mast end first);
path elements gain ``lon``/``lat`` inside the existing JSON, so old rows keep working without
them (nothing is drawn). README: Correlation: one alarm per fault.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("masts") as batch:
        batch.add_column(sa.Column("cable", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("masts") as batch:
        batch.drop_column("cable")
