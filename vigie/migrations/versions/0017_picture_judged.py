"""What the last picture verdict judged, beyond its problems: ``camera_pictures.judged``.

A JSON column: the picture's lighting regime (day, or infrared night), whose reference judged
it (each camera now learns one per regime, stored together in ``reference``: a reference
stored before is read as the day one, so no data moves), the snapshots each regime's reference
learned, and what was seen per problem (the share covered, the shift in pixels...). Shown by
``GET /api/v1/status/{id}`` and the camera page. README: Picture health, Day and night.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_pictures") as batch:
        batch.add_column(sa.Column("judged", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_pictures") as batch:
        batch.drop_column("judged")
