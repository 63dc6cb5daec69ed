"""attachments for any owner (owner type + id, uploader)

Revision ID: a8c5e1b64f35
Revises: e6a3c9f42d13
Create Date: 2026-12-02 09:00:00

The attachments table belonged to spot checks (`spot_check_id`); it now names its owner by
`owner_type` and `owner_id`. Existing rows become `spot_check` attachments of the same check,
their files stay where they are (`stored_path`). The codes of the owner types are written out
as they stand at this revision.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8c5e1b64f35'
down_revision = "e6a3c9f42d13"
branch_labels = None
depends_on = None

OWNER_TYPES = ('spot_check', 'rectification_notice', 'quarterly_review', 'correction_request', 'appeal')


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


def downgrade():
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
