"""field-worker accounts, app visits, their photos and signatures, API tokens; records' source

Revision ID: f6b8d0a2c4e7
Revises: e5a7c9e1f3b6
Create Date: 2026-12-03 16:39:29.163884

Every record stored before this revision came from a log file (it has a batch: `upload`) or from
the visit form (no batch: `form`); the app did not exist. The codes are written out as they stand
at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b8d0a2c4e7'
down_revision = 'e5a7c9e1f3b6'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('admin', 'supervisor', 'contractor', 'auditor')
ROLES = (*ROLES_BEFORE, 'field_worker')
SOURCES = ('app', 'upload', 'form')


def _codes(codes: tuple[str, ...]) -> str:
    return ', '.join(repr(code) for code in codes)


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('media_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('perceptual_hash', sa.String(length=16), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('photo', 'signature')", name=op.f('ck_media_files_kind')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_media_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_files')),
    sa.UniqueConstraint('uploaded_by_id', 'sha256', name=op.f('uq_media_files_uploaded_by_id'))
    )
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_files_sha256'), ['sha256'], unique=False)

    op.create_table('app_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('check_in_at', sa.DateTime(), nullable=False),
    sa.Column('check_out_at', sa.DateTime(), nullable=False),
    sa.Column('device_sent_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('no_signature_reason', sa.String(length=200), nullable=True),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_app_visits_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'], name=op.f('fk_app_visits_record_id_completion_records')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_app_visits_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_visits')),
    sa.UniqueConstraint('record_id', name=op.f('uq_app_visits_record_id')),
    sa.UniqueConstraint('user_id', 'idempotency_key', name=op.f('uq_app_visits_user_id'))
    )
    with op.batch_alter_table('app_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_visits_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('visit_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media_files.id'], name=op.f('fk_visit_media_media_id_media_files')),
    sa.ForeignKeyConstraint(['visit_id'], ['app_visits.id'], name=op.f('fk_visit_media_visit_id_app_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_media')),
    sa.UniqueConstraint('visit_id', 'media_id', name=op.f('uq_visit_media_visit_id'))
    )
    with op.batch_alter_table('visit_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_media_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_media_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_assignments_worker_id'), ['worker_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_assignments_worker_id_field_workers'), 'field_workers', ['worker_id'], ['id'])

    with op.batch_alter_table('completion_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=True))
    records = sa.table('completion_records', sa.column('source', sa.String), sa.column('batch_id', sa.Integer))
    op.execute(records.update().values(
        source=sa.case((records.c.batch_id.is_not(None), 'upload'), else_='form')))
    with op.batch_alter_table('completion_records', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=8), nullable=False)
        batch_op.create_check_constraint(op.f('ck_completion_records_source'), f"source IN ({_codes(SOURCES)})")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), f"role IN ({_codes(ROLES)})")
        batch_op.add_column(sa.Column('field_worker_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_field_worker_id'), ['field_worker_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_field_worker_id_field_workers'), 'field_workers', ['field_worker_id'], ['id'])



def downgrade():
    users = sa.table('users', sa.column('role', sa.String), sa.column('is_active_account', sa.Boolean))
    # A field-worker account has no role before this revision: it is kept, deactivated, as a contractor's.
    op.execute(users.update().where(users.c.role == 'field_worker').values(role='contractor', is_active_account=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_field_worker_id_field_workers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_field_worker_id'))
        batch_op.drop_column('field_worker_id')
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), f"role IN ({_codes(ROLES_BEFORE)})")

    with op.batch_alter_table('completion_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_completion_records_source'), type_='check')
        batch_op.drop_column('source')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assignments_worker_id_field_workers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_assignments_worker_id'))
        batch_op.drop_column('worker_id')

    with op.batch_alter_table('visit_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_media_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_media_sha256'))

    op.drop_table('visit_media')
    with op.batch_alter_table('app_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_visits_assignment_id'))

    op.drop_table('app_visits')
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_files_sha256'))

    op.drop_table('media_files')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
