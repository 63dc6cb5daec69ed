"""audit_events: the key id of each keyed event; append-only triggers

Revision ID: d5f2b8e31c02
Revises: e6a3c9f42d13
Create Date: 2026-12-03 09:00:00

Events written before this revision keep key_id NULL (legacy, plain SHA-256); the first event
the app appends afterwards seals them (README, Audit log).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f2b8e31c02'
down_revision = "e6a3c9f42d13"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
