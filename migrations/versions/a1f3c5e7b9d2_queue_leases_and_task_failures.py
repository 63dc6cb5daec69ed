"""queue: the import lease on upload batches and the failed-task list

Revision ID: a1f3c5e7b9d2
Revises: c2e4a6b8d0f1
Create Date: 2026-12-03 10:10:00

A batch records which queue worker holds it and when that worker last showed life, so that a
batch whose worker died is started again or failed, never left 处理中.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1f3c5e7b9d2'
down_revision = 'c2e4a6b8d0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_table('task_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_name', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('arguments', sa.String(length=300), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_failures_failed_at'), ['failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('task_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_failures_failed_at'))
    op.drop_table('task_failures')
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
