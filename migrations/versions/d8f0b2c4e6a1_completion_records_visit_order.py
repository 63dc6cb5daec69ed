"""completion_records: indexes in the records list's order (newest visit first), overall and per contract

Revision ID: d8f0b2c4e6a1
Revises: e9f1a3b5d7c8
Create Date: 2026-12-06 22:20:00

After a million records the list sorted all of them for each page (0.8 s on SQLite, 1.3 s on
PostgreSQL for a user above every county); read in index order it takes the first fifty. The
per-contract index keeps a contract's list from walking the whole order back to an old contract's
years (PostgreSQL's planner would, expecting its records spread evenly).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd8f0b2c4e6a1'
down_revision = 'e9f1a3b5d7c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_completion_records_visit_order', 'completion_records',
                    ['service_date', 'start_time', 'id'])
    op.create_index('ix_completion_records_contract_visit_order', 'completion_records',
                    ['contract_id', 'service_date', 'start_time', 'id'])


def downgrade():
    op.drop_index('ix_completion_records_contract_visit_order', table_name='completion_records')
    op.drop_index('ix_completion_records_visit_order', table_name='completion_records')
