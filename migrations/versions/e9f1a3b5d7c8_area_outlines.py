"""areas.boundary: a township's (or county's) outline, a GeoJSON Polygon or MultiPolygon

Revision ID: e9f1a3b5d7c8
Revises: a5b7c9d1f3e4
Create Date: 2026-12-04 21:55:00

Nullable: no area has an outline until `flask load-area-outlines` or the 行政区划 page loads one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9f1a3b5d7c8'
down_revision = 'a5b7c9d1f3e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boundary', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_column('boundary')
