"""Access tokens name a user by a random subject; lockouts per client address and account.

``users.subject`` (random, unique, never reused) replaces the integer id in access tokens: a user
created after a deleted one may get its id, never its subject. ``login_throttles`` counts failed
logins per (client address, user name) and holds the lock they earn, replacing the account-wide
``users.failed_logins`` and ``users.locked_until`` with which anyone could lock out the admin.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("subject", sa.String(32), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("subject", sa.String()))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(subject=uuid.uuid4().hex)
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("subject", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_users_subject", ["subject"])
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(45), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC, nullable=True),
        sa.Column("last_failure_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_throttles"),
        sa.UniqueConstraint("client", "username", name="uq_login_throttles_client"),
    )
    op.create_index("ix_login_throttles_username", "login_throttles", ["username"])
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttles_last_failure_at", table_name="login_throttles")
    op.drop_index("ix_login_throttles_username", table_name="login_throttles")
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", UTC, nullable=True))
        batch.drop_constraint("uq_users_subject", type_="unique")
        batch.drop_column("subject")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("failed_logins", server_default=None)
