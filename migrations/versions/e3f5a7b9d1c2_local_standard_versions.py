"""local standards as dated versions: urban and rural 低保标准, 调休 working days

Revision ID: e3f5a7b9d1c2
Revises: d2e4f6a8c0b1
Create Date: 2026-12-04 20:40:00

Each year's existing standard becomes its version 1, in force from 1 January, its one poverty
line standing for both the urban and the rural one.
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3f5a7b9d1c2'
down_revision = 'd2e4f6a8c0b1'
branch_labels = None
depends_on = None

TERMS = ("poverty_line_fen", "care_allowance_tier1_fen", "care_allowance_tier2_fen", "care_allowance_tier3_fen",
         "spot_check_share_bp", "spot_check_floor", "callback_share_bp", "retrain_threshold_bp",
         "recheck_threshold_bp", "recheck_min_checks", "holidays")
FIRST_REASON = "升级前已有的年度标准"


def upgrade():
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poverty_line_rural_fen', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('working_days', sa.JSON(), server_default='[]', nullable=False))
    versions = op.create_table(
        'local_standard_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('standard_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('poverty_line_fen', sa.Integer(), nullable=False),
        sa.Column('poverty_line_rural_fen', sa.Integer(), nullable=False),
        sa.Column('care_allowance_tier1_fen', sa.Integer(), nullable=False),
        sa.Column('care_allowance_tier2_fen', sa.Integer(), nullable=False),
        sa.Column('care_allowance_tier3_fen', sa.Integer(), nullable=False),
        sa.Column('spot_check_share_bp', sa.Integer(), nullable=False),
        sa.Column('spot_check_floor', sa.Integer(), nullable=False),
        sa.Column('callback_share_bp', sa.Integer(), nullable=False),
        sa.Column('retrain_threshold_bp', sa.Integer(), nullable=False),
        sa.Column('recheck_threshold_bp', sa.Integer(), nullable=False),
        sa.Column('recheck_min_checks', sa.Integer(), nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('working_days', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_local_standard_versions_created_by_id_users')),
        sa.ForeignKeyConstraint(['standard_id'], ['local_standards.id'],
                                name=op.f('fk_local_standard_versions_standard_id_local_standards')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_standard_versions')),
        sa.UniqueConstraint('standard_id', 'number', name=op.f('uq_local_standard_versions_standard_id')),
    )
    with op.batch_alter_table('local_standard_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_standard_versions_effective_from'), ['effective_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_standard_versions_standard_id'), ['standard_id'], unique=False)

    connection = op.get_bind()
    standards = sa.table('local_standards', sa.column('id'), sa.column('year'), sa.column('created_at', sa.DateTime()),
                         *(sa.column(term, sa.JSON() if term == "holidays" else sa.Integer()) for term in TERMS))
    rows = connection.execute(sa.select(standards)).mappings().all()
    if rows:
        connection.execute(versions.insert(), [
            {"standard_id": row["id"], "number": 1, "effective_from": date(row["year"], 1, 1),
             "reason": FIRST_REASON, "created_by_id": None, "created_at": row["created_at"],
             **{term: row[term] for term in TERMS}, "holidays": row["holidays"] or [],
             "poverty_line_rural_fen": row["poverty_line_fen"], "working_days": []}
            for row in rows])


def downgrade():
    with op.batch_alter_table('local_standard_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_standard_versions_standard_id'))
        batch_op.drop_index(batch_op.f('ix_local_standard_versions_effective_from'))
    op.drop_table('local_standard_versions')
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.drop_column('working_days')
        batch_op.drop_column('poverty_line_rural_fen')
