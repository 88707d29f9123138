"""Supervision data: saved camera states, observations, state history, incidents, maintenance
windows and the numbered event log the live stream replays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def _camera_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["camera_id"], ["cameras.id"], name=f"fk_{table}_camera_id_cameras", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "camera_status",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", UTC, nullable=True),
        sa.Column("saved", sa.JSON(), nullable=False),
        sa.Column("last_observation", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        _camera_fk("camera_status"),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_status"),
    )
    op.create_index("ix_camera_status_state", "camera_status", ["state"])
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _camera_fk("observations"),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
    )
    op.create_index("ix_observations_at", "observations", ["at"])
    op.create_index("ix_observations_camera_at", "observations", ["camera_id", "at"])
    op.create_table(
        "state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("previous", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("causes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        _camera_fk("state_changes"),
        sa.PrimaryKeyConstraint("id", name="pk_state_changes"),
    )
    op.create_index("ix_state_changes_camera_at", "state_changes", ["camera_id", "at"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("close_reason", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("causes", sa.JSON(), nullable=False),
        sa.Column("seen_causes", sa.JSON(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(120), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        _camera_fk("incidents"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("key", name="uq_incidents_key"),
    )
    op.create_index("ix_incidents_camera_id", "incidents", ["camera_id"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])
    op.create_index("ix_incidents_closed_at", "incidents", ["closed_at"])
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("start", UTC, nullable=False),
        sa.Column("end", UTC, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _camera_fk("maintenance_windows"),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
    )
    op.create_index("ix_maintenance_windows_camera_id", "maintenance_windows", ["camera_id"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("commune_code", sa.String(5), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_camera_id", "events", ["camera_id"])
    head = op.create_table(
        "event_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_head"),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0}])


def downgrade() -> None:
    for table in (
        "event_head",
        "events",
        "maintenance_windows",
        "incidents",
        "state_changes",
        "observations",
        "camera_status",
    ):
        op.drop_table(table)
