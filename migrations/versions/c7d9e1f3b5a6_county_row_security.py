"""county row-level security: a policy on every county-scoped table (PostgreSQL only)

Revision ID: c7d9e1f3b5a6
Revises: f4a6b8c0e2d3
Create Date: 2026-12-04 21:00:00

Each table with a county_id gets row-level security, enabled and forced (the owner that runs the
migrations is held to it as well as a non-owner `oversight_app` role), and the policy
`county_scope`: a row is seen and may be written when its county is in the transaction's
`oversight.county_ids` setting ("3,7"), or when the setting is `*` (the system's work). The app
sets it at the start of every transaction (`services/row_security.py`). SQLite has no row-level
security: nothing is done there. The tables and the policy are written out as they stand at this
revision.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7d9e1f3b5a6'
down_revision = 'f4a6b8c0e2d3'
branch_labels = None
depends_on = None

COUNTY_TABLES = ("contractors", "contracts", "subjects", "assignments", "completion_records", "sampling_draws",
                 "quarterly_reviews", "annual_evaluations", "local_standards", "procurement_projects",
                 "condition_reports")
POLICY = "county_scope"
VISIBLE = ("current_setting('oversight.county_ids', true) = '*' OR county_id = ANY "
           "(string_to_array(NULLIF(current_setting('oversight.county_ids', true), '*'), ',')::integer[])")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    for table in COUNTY_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({VISIBLE}) WITH CHECK ({VISIBLE})')


def downgrade():
    if not _postgresql():
        return
    for table in reversed(COUNTY_TABLES):
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
