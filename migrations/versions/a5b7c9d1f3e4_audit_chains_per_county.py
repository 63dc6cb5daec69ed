"""audit_events.county_id: one audit chain per county (NULL: the city chain)

Revision ID: a5b7c9d1f3e4
Revises: b6c8d0e2a4f5
Create Date: 2026-12-04 20:40:00

Every existing event stays where it is: NULL, the city chain, which the single chain of a
database from before the counties simply continues (its MACs, legacy hashes and anchors hold
unchanged). A plain ADD COLUMN on both databases, so that SQLite keeps the table (and its
append-only triggers) as it is.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5b7c9d1f3e4'
down_revision = 'b6c8d0e2a4f5'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_events', sa.Column('county_id', sa.Integer(), nullable=True))
    op.create_index('ix_audit_events_county_id_id', 'audit_events', ['county_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_audit_events_county_id_id', table_name='audit_events')
    # A plain DROP COLUMN (SQLite 3.35 and later too), not a batch rebuild of the table, which
    # would lose the append-only triggers with the old one.
    op.execute('ALTER TABLE audit_events DROP COLUMN county_id')
