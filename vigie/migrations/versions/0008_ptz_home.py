"""A PTZ camera's reference position: where its reference picture was learned.

``camera_pictures.ptz_home`` holds the PTZ status (pan, tilt, zoom) read when the reference was
learned; away from it, ``displaced`` is left unjudged (README: Cameras we supervise).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("camera_pictures", sa.Column("ptz_home", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_pictures") as batch:
        batch.drop_column("ptz_home")
