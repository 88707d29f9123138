"""Communes and intercommunalities: the reference every scope and report is keyed on.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "epcis",
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("siren", name="pk_epcis"),
    )
    op.create_table(
        "communes",
        sa.Column("code", sa.String(5), nullable=False),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("epci_siren", sa.String(9), nullable=True),
        sa.ForeignKeyConstraint(
            ["epci_siren"], ["epcis.siren"], name="fk_communes_epci_siren_epcis"
        ),
        sa.PrimaryKeyConstraint("code", name="pk_communes"),
    )
    op.create_index("ix_communes_epci_siren", "communes", ["epci_siren"])


def downgrade() -> None:
    op.drop_index("ix_communes_epci_siren", table_name="communes")
    op.drop_table("communes")
    op.drop_table("epcis")
