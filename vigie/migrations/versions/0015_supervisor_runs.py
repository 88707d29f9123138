"""The supervisor's runs, so that the time nobody watched the cameras is recorded as unknown.

``supervisor_runs`` has one row per start of the supervisor: ``started_at``, ``last_beat_at``
(its heartbeat) and ``stopped_at`` (a graceful stop). README: How `vigie serve` supervises.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("supervisor_runs")
