"""areas: the administrative hierarchy (province → city → county → township → village) by code

Revision ID: a2c4e6f8b0d1
Revises: b1d3f5a7c9e2
Create Date: 2026-12-04 20:20:00

The level codes are written out as they stand at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a2c4e6f8b0d1'
down_revision = 'b1d3f5a7c9e2'
branch_labels = None
depends_on = None

LEVELS = ("province", "city", "county", "township", "village")


def upgrade():
    op.create_table(
        'areas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"level IN ({', '.join(repr(code) for code in LEVELS)})", name=op.f('ck_areas_level')),
        sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
        sa.UniqueConstraint('code', name=op.f('uq_areas_code')),
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_id'))
    op.drop_table('areas')
