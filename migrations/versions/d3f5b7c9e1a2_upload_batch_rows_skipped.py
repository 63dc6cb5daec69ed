"""upload_batches: rows skipped because only the prefilled columns were filled in

Revision ID: d3f5b7c9e1a2
Revises: b9d6f2c75a46
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3f5b7c9e1a2'
down_revision = 'b9d6f2c75a46'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_skipped', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.drop_column('rows_skipped')
