"""users: session version and last log-in address replace the failure counter and lock

Revision ID: e6a3c9f42d13
Revises: c4e1a7d20b91
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e6a3c9f42d13'
down_revision = "c4e1a7d20b91"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_login_address', sa.String(length=45), nullable=True))
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('last_login_address')
        batch_op.drop_column('session_version')
