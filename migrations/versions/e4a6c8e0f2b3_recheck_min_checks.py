"""the county's minimum number of checked records before a worker is sent to a targeted re-check

Revision ID: e4a6c8e0f2b3
Revises: d3f5b7c9e1a2
Create Date: 2026-12-03 10:05:00.000000

Existing years get the default of 5.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a6c8e0f2b3'
down_revision = 'd3f5b7c9e1a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recheck_min_checks', sa.Integer(), server_default='5', nullable=False))


def downgrade():
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.drop_column('recheck_min_checks')
