"""re-assessment on a change of condition: condition reports, the reason of an assignment, the
stated effective dates of care-tier changes, and the notification kind that tells the contractor

Revision ID: f4a6b8c0e2d3
Revises: e3f5a7b9d1c2
Create Date: 2026-12-04 20:25:00

The codes are written out as they stand at this revision. Downgrading deletes the
notifications (and e-mail choices) of the new kind and forgets the assignments' reason.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4a6b8c0e2d3'
down_revision = 'e3f5a7b9d1c2'
branch_labels = None
depends_on = None

REASONS = ('reassessment',)
REPORTERS = ('contractor_staff', 'field_worker', 'bureau', 'township', 'village_committee', 'family', 'other')
KINDS_BEFORE = ('notice_issued', 'notice_overdue', 'notice_escalated', 'review_published', 'review_commented',
                'review_settled', 'spot_check_result', 'correction_decided', 'appeal_decided', 'import_finished',
                'import_failed', 'due_soon')
KINDS_AFTER = KINDS_BEFORE + ('reassessment_assigned',)


def _in(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def _kinds(codes: tuple[str, ...]) -> None:
    for table in ('notifications', 'notification_preferences'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind'), _in('kind', codes))


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f('ck_assignments_reason'), _in('reason', REASONS))
    op.create_table(
        'condition_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('reporter_kind', sa.String(length=24), nullable=False),
        sa.Column('reporter_name', sa.String(length=64), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in('reporter_kind', REPORTERS), name=op.f('ck_condition_reports_reporter_kind')),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'],
                                name=op.f('fk_condition_reports_assignment_id_assignments')),
        sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'],
                                name=op.f('fk_condition_reports_contract_id_contracts')),
        sa.ForeignKeyConstraint(['county_id'], ['areas.id'], name=op.f('fk_condition_reports_county_id_areas')),
        sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_condition_reports_entered_by_id_users')),
        sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_condition_reports_subject_id_subjects')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_condition_reports')),
    )
    with op.batch_alter_table('condition_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_condition_reports_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_condition_reports_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_condition_reports_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_condition_reports_subject_id'), ['subject_id'], unique=False)
    op.create_table(
        'tier_effective_dates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('stated_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'],
                                name=op.f('fk_tier_effective_dates_record_id_completion_records')),
        sa.ForeignKeyConstraint(['stated_by_id'], ['users.id'], name=op.f('fk_tier_effective_dates_stated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_effective_dates')),
        sa.UniqueConstraint('record_id', name=op.f('uq_tier_effective_dates_record_id')),
    )
    _kinds(KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'reassessment_assigned'")
    op.execute("DELETE FROM notification_preferences WHERE kind = 'reassessment_assigned'")
    _kinds(KINDS_BEFORE)
    op.drop_table('tier_effective_dates')
    with op.batch_alter_table('condition_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_condition_reports_subject_id'))
        batch_op.drop_index(batch_op.f('ix_condition_reports_county_id'))
        batch_op.drop_index(batch_op.f('ix_condition_reports_contract_id'))
        batch_op.drop_index(batch_op.f('ix_condition_reports_assignment_id'))
    op.drop_table('condition_reports')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignments_reason'), type_='check')
        batch_op.drop_column('reason')
