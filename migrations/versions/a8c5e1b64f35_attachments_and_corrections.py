"""attachments for any owner (owner type + id, uploader); correction requests and record versions

Revision ID: a8c5e1b64f35
Revises: e6a3c9f42d13
Create Date: 2026-12-02 09:00:00

The attachments table belonged to spot checks (`spot_check_id`); it now names its owner by
`owner_type` and `owner_id`. Existing rows become `spot_check` attachments of the same check,
their files stay where they are (`stored_path`). Correction requests (更正申请) of completion
records and the versions they leave are new tables. The codes of the owner types and of the
correction statuses are written out as they stand at this revision.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8c5e1b64f35'
down_revision = "e6a3c9f42d13"
branch_labels = None
depends_on = None

OWNER_TYPES = ('spot_check', 'rectification_notice', 'quarterly_review', 'correction_request', 'appeal')
CORRECTION_STATUSES = ('pending', 'approved', 'refused')


def _condition(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('uploaded_by_id', sa.Integer(), nullable=True))
    op.execute("UPDATE attachments SET owner_type = 'spot_check', owner_id = spot_check_id")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('owner_type', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_attachments_spot_check_id'))
        batch_op.drop_constraint(batch_op.f('fk_attachments_spot_check_id_spot_checks'), type_='foreignkey')
        batch_op.drop_column('spot_check_id')
        batch_op.create_foreign_key(batch_op.f('fk_attachments_uploaded_by_id_users'), 'users',
                                    ['uploaded_by_id'], ['id'])
        batch_op.create_index('ix_attachments_owner', ['owner_type', 'owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)
        batch_op.create_check_constraint(op.f('ck_attachments_owner_type'), _condition('owner_type', OWNER_TYPES))

    op.create_table('correction_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.CheckConstraint(_condition('status', CORRECTION_STATUSES), name=op.f('ck_correction_requests_status')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_correction_requests_contract_id_contracts')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_correction_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'], name=op.f('fk_correction_requests_record_id_completion_records')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_correction_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests'))
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_record_id'), ['record_id'], unique=False)

    op.create_table('completion_record_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('correction_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['correction_id'], ['correction_requests.id'], name=op.f('fk_completion_record_versions_correction_id_correction_requests')),
    sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'], name=op.f('fk_completion_record_versions_record_id_completion_records')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_completion_record_versions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_record_versions')),
    sa.UniqueConstraint('record_id', 'version', name=op.f('uq_completion_record_versions_record_id'))
    )
    with op.batch_alter_table('completion_record_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_record_versions_record_id'), ['record_id'], unique=False)


def downgrade():
    with op.batch_alter_table('completion_record_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completion_record_versions_record_id'))
    op.drop_table('completion_record_versions')
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_record_id'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_contract_id'))
    op.drop_table('correction_requests')

    op.execute("DELETE FROM attachments WHERE owner_type <> 'spot_check'")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spot_check_id', sa.Integer(), nullable=True))
    op.execute("UPDATE attachments SET spot_check_id = owner_id")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attachments_owner_type'), type_='check')
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))
        batch_op.drop_index('ix_attachments_owner')
        batch_op.drop_constraint(batch_op.f('fk_attachments_uploaded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('uploaded_by_id')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('owner_type')
        batch_op.alter_column('spot_check_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_attachments_spot_check_id_spot_checks'), 'spot_checks',
                                    ['spot_check_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_attachments_spot_check_id'), ['spot_check_id'], unique=False)
