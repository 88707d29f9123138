"""The legal register: prefectoral authorisations, the cameras they cover, fields of view.

``authorisations`` holds the arrêtés (number, validity, purposes, retention);
``camera_authorisations`` which camera films under which, with the history (the link in force
has no ``detached_at``); ``fields_of_view`` where each camera looks (README: Legal register).
New tables only: ``cameras`` is left as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_authorisations"),
        sa.UniqueConstraint("number", name="uq_authorisations_number"),
    )
    op.create_index("ix_authorisations_ends_on", "authorisations", ["ends_on"])
    op.create_table(
        "camera_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", UTC, nullable=False),
        sa.Column("attached_by", sa.String(120), nullable=False),
        sa.Column("detached_at", UTC, nullable=True),
        sa.Column("detached_by", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_camera_authorisations_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["authorisations.id"],
            name="fk_camera_authorisations_authorisation_id_authorisations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_camera_authorisations"),
    )
    op.create_index(
        "ix_camera_authorisations_camera_detached",
        "camera_authorisations",
        ["camera_id", "detached_at"],
    )
    op.create_index(
        "ix_camera_authorisations_authorisation_id",
        "camera_authorisations",
        ["authorisation_id"],
    )
    op.create_table(
        "fields_of_view",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.Float(), nullable=False),
        sa.Column("angle", sa.Float(), nullable=False),
        sa.Column("range_m", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_fields_of_view_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name="pk_fields_of_view"),
    )


def downgrade() -> None:
    op.drop_table("fields_of_view")
    op.drop_table("camera_authorisations")
    op.drop_table("authorisations")
