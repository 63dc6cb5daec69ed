"""notification kinds, the e-mail outbox on each notification, and e-mail preferences

Revision ID: c2e4a6b8d0f1
Revises: e4a6c8e0f2b3
Create Date: 2026-12-03 10:40:00.000000

Notifications written before this revision came from three places, told apart by their
`dedup_key`: overdue notices, due-soon reminders and escalations (a key no release wrote
reads as a reminder). One already e-mailed is
`sent`; the others are `skipped` (they were e-mailed at once or never). The codes are written
out as they stand at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2e4a6b8d0f1'
down_revision = 'e4a6c8e0f2b3'
branch_labels = None
depends_on = None

KINDS = ('notice_issued', 'notice_overdue', 'notice_escalated', 'review_published', 'review_commented',
         'review_settled', 'spot_check_result', 'correction_decided', 'appeal_decided', 'import_finished',
         'import_failed', 'due_soon')
EMAIL_STATUSES = ('pending', 'sending', 'sent', 'failed', 'skipped')
EARLIER_KINDS = {'notice-overdue:': 'notice_overdue', 'due-soon:': 'due_soon', 'notice-escalated:': 'notice_escalated'}


def _codes(codes: tuple[str, ...]) -> str:
    return ', '.join(repr(code) for code in codes)


def upgrade():
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.CheckConstraint(f"kind IN ({_codes(KINDS)})", name=op.f('ck_notification_preferences_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preferences_user_id'))
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preferences_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('email_attempts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('email_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('email_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('email_claimed_at', sa.DateTime(), nullable=True))
    notifications = sa.table('notifications', sa.column('kind', sa.String), sa.column('dedup_key', sa.String),
                             sa.column('email_status', sa.String), sa.column('email_attempts', sa.Integer),
                             sa.column('emailed_at', sa.DateTime))
    kind = sa.case(*((notifications.c.dedup_key.like(f'{prefix}%'), kind) for prefix, kind in EARLIER_KINDS.items()),
                   else_='due_soon')
    op.execute(notifications.update().values(
        kind=kind, email_attempts=0,
        email_status=sa.case((notifications.c.emailed_at.is_not(None), 'sent'), else_='skipped')))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('email_status', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('email_attempts', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f('ck_notifications_kind'), f"kind IN ({_codes(KINDS)})")
        batch_op.create_check_constraint(op.f('ck_notifications_email_status'),
                                         f"email_status IN ({_codes(EMAIL_STATUSES)})")
        batch_op.create_index(batch_op.f('ix_notifications_email_status'), ['email_status'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_email_status'))
        batch_op.drop_constraint(op.f('ck_notifications_email_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        for column in ('email_claimed_at', 'email_to', 'email_error', 'email_attempts', 'email_status', 'kind'):
            batch_op.drop_column(column)
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_preferences_user_id'))
    op.drop_table('notification_preferences')
