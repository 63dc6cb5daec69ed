"""page jobs: a lease on export jobs (worker, heartbeat, attempts), a running status, and kinds
(audit bundles and draws asked for on a page)

Revision ID: b1d3f5a7c9e2
Revises: c3e5a7b9d1f4
Create Date: 2026-12-03 16:50:00

A job whose worker died mid-build is queued again or failed, never left 生成中, as an upload
batch is (a1f3c5e7b9d2). The status codes are written out as they stand at this revision; rows
pending before are queued (pending keeps its code).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1d3f5a7c9e2'
down_revision = 'c3e5a7b9d1f4'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ("pending", "done", "failed")
STATUSES_AFTER = ("pending", "running", "done", "failed")
KINDS = ("audit_bundle", "draw")


def _in(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def upgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='audit_bundle', nullable=False))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(op.f('ck_export_jobs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_export_jobs_status'), _in('status', STATUSES_AFTER))
        batch_op.create_check_constraint(op.f('ck_export_jobs_kind'), _in('kind', KINDS))


def downgrade():
    op.execute("UPDATE export_jobs SET status = 'pending' WHERE status = 'running'")
    op.execute("DELETE FROM export_jobs WHERE kind <> 'audit_bundle'")
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_export_jobs_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_export_jobs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_export_jobs_status'), _in('status', STATUSES_BEFORE))
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('result')
        batch_op.drop_column('params')
        batch_op.drop_column('kind')
