"""callbacks: who answered; verification imports and their evidence flags

Revision ID: f7b4d0a53e24
Revises: a8c5e1b64f35
Create Date: 2026-12-08 09:00:00

Callbacks answered before this revision keep NULL in `answered_by`, shown as 未记录: nobody
asked who picked up, and no value can be made up for them now. The codes are written out as they
stand at this revision (see c4e1a7d20b91). SQLite rebuilds `callbacks` in batch mode, with
foreign-key enforcement off while it does (complaints point at it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f7b4d0a53e24'
down_revision = "a8c5e1b64f35"
branch_labels = None
depends_on = None

ANSWERERS = ("self", "family", "other")


def _condition(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def upgrade():
    with _foreign_keys_off():
        with op.batch_alter_table("callbacks") as batch:
            batch.add_column(sa.Column("answered_by", sa.String(length=16), nullable=True))
            batch.create_check_constraint(op.f("ck_callbacks_answered_by"), _condition("answered_by", ANSWERERS))

    op.create_table('verification_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_matched', sa.Integer(), nullable=False),
    sa.Column('flags_raised', sa.Integer(), nullable=False),
    sa.Column('flags_known', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('error_report_path', sa.String(length=500), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.CheckConstraint("kind IN ('economic', 'death')", name=op.f('ck_verification_imports_kind')),
    sa.CheckConstraint("status IN ('pending', 'processing', 'accepted', 'rejected', 'failed')", name=op.f('ck_verification_imports_status')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_verification_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_imports'))
    )
    with op.batch_alter_table('verification_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_imports_sha256'), ['sha256'], unique=False)

    op.create_table('evidence_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('targeted_draw_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('income_underreported', 'assets_underreported', 'property_underreported', 'vehicles_underreported', 'business_unreported', 'registered_elsewhere', 'service_after_death')", name=op.f('ck_evidence_flags_kind')),
    sa.CheckConstraint("status IN ('open', 'targeted', 'closed')", name=op.f('ck_evidence_flags_status')),
    sa.CheckConstraint("service_type IN ('household_survey', 'self_care_assessment', 'care_visit')", name=op.f('ck_evidence_flags_service_type')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_evidence_flags_closed_by_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_evidence_flags_contract_id_contracts')),
    sa.ForeignKeyConstraint(['import_id'], ['verification_imports.id'], name=op.f('fk_evidence_flags_import_id_verification_imports')),
    sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'], name=op.f('fk_evidence_flags_record_id_completion_records')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_evidence_flags_subject_id_subjects')),
    sa.ForeignKeyConstraint(['targeted_draw_id'], ['sampling_draws.id'], name=op.f('fk_evidence_flags_targeted_draw_id_sampling_draws')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_flags')),
    sa.UniqueConstraint('record_id', 'kind', name=op.f('uq_evidence_flags_record_id'))
    )
    with op.batch_alter_table('evidence_flags', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_flags_contract_status', ['contract_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_flags_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_flags_subject_id'), ['subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('evidence_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_flags_subject_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_flags_import_id'))
        batch_op.drop_index('ix_evidence_flags_contract_status')

    op.drop_table('evidence_flags')
    with op.batch_alter_table('verification_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_imports_sha256'))

    op.drop_table('verification_imports')

    with _foreign_keys_off():
        with op.batch_alter_table("callbacks") as batch:
            batch.drop_constraint(op.f("ck_callbacks_answered_by"), type_="check")
            batch.drop_column("answered_by")


class _foreign_keys_off:
    """SQLite rebuilds a table by copying it and dropping the old one, which the foreign keys
    that point at it would refuse; PostgreSQL alters in place."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            op.execute("PRAGMA foreign_keys=OFF")

    def __exit__(self, *exc_info):
        if self.sqlite:
            op.execute("PRAGMA foreign_keys=ON")
