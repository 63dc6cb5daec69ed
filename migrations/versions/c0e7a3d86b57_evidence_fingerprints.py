"""quarterly_reviews, annual_evaluations: the fingerprint of the evidence the figures were computed from

Existing rows keep NULL: a review or evaluation without a fingerprint is checked against its
stored figures the first time it is published, settled or approved (see README, "Freshness").

Revision ID: c0e7a3d86b57
Revises: d5f2b8e31c02
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0e7a3d86b57'
down_revision = "d5f2b8e31c02"
branch_labels = None
depends_on = None

TABLES = ("quarterly_reviews", "annual_evaluations")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('evidence_sha256', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('evidence_fingerprint', sa.JSON(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('evidence_fingerprint')
            batch_op.drop_column('evidence_sha256')
