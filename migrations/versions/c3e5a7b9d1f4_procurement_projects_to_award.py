"""procurement projects to award: projects, their lines, bids, scoring items, committee and scores

Revision ID: c3e5a7b9d1f4
Revises: f6b8d0a2c4e7
Create Date: 2026-12-03 16:41:06

A project's documents are attachments of the new owner type `procurement_project`. The codes are
written out as they stand at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e5a7b9d1f4'
down_revision = 'f6b8d0a2c4e7'
branch_labels = None
depends_on = None

OWNER_TYPES = ('spot_check', 'rectification_notice', 'quarterly_review', 'correction_request', 'appeal')
NEW_OWNER_TYPES = (*OWNER_TYPES, 'procurement_project')


def _condition(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def _owner_types(codes: tuple[str, ...]) -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attachments_owner_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attachments_owner_type'), _condition('owner_type', codes))


def upgrade():
    op.create_table('procurement_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('budget_line', sa.String(length=200), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('procurement_method', sa.String(length=16), nullable=False),
    sa.Column('price_points_centi', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=True),
    sa.Column('bid_opening_on', sa.Date(), nullable=True),
    sa.Column('awarded_on', sa.Date(), nullable=True),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=False),
    sa.Column('performance_share_bp', sa.Integer(), nullable=False),
    sa.Column('tie_decision', sa.JSON(), nullable=True),
    sa.Column('tie_note', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('evaluation', sa.JSON(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(), nullable=True),
    sa.Column('evaluated_by_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("procurement_method IN ('公开招标', '竞争性磋商', '竞争性谈判', '单一来源', '询价')", name=op.f('ck_procurement_projects_procurement_method')),
    sa.CheckConstraint("status IN ('draft', 'announced', 'opened', 'evaluated', 'awarded', 'cancelled')", name=op.f('ck_procurement_projects_status')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_procurement_projects_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_procurement_projects_created_by_id_users')),
    sa.ForeignKeyConstraint(['evaluated_by_id'], ['users.id'], name=op.f('fk_procurement_projects_evaluated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procurement_projects')),
    sa.UniqueConstraint('code', name=op.f('uq_procurement_projects_code')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_procurement_projects_contract_id'))
    )
    op.create_table('procurement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.String(length=32), nullable=False),
    sa.Column('annual_target', sa.Integer(), nullable=False),
    sa.Column('visits_per_month', sa.Integer(), nullable=False),
    sa.CheckConstraint("service_type IN ('household_survey', 'self_care_assessment', 'care_visit')", name=op.f('ck_procurement_lines_service_type')),
    sa.ForeignKeyConstraint(['project_id'], ['procurement_projects.id'], name=op.f('fk_procurement_lines_project_id_procurement_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procurement_lines')),
    sa.UniqueConstraint('project_id', 'service_type', name=op.f('uq_procurement_lines_project_id'))
    )
    with op.batch_alter_table('procurement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_procurement_lines_project_id'), ['project_id'], unique=False)

    op.create_table('tender_bids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('invalid_reason', sa.Text(), nullable=True),
    sa.Column('awarded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractors.id'], name=op.f('fk_tender_bids_contractor_id_contractors')),
    sa.ForeignKeyConstraint(['project_id'], ['procurement_projects.id'], name=op.f('fk_tender_bids_project_id_procurement_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_bids')),
    sa.UniqueConstraint('project_id', 'contractor_id', name=op.f('uq_tender_bids_project_id'))
    )
    with op.batch_alter_table('tender_bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_bids_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_bids_project_id'), ['project_id'], unique=False)

    op.create_table('tender_evaluators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['procurement_projects.id'], name=op.f('fk_tender_evaluators_project_id_procurement_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_evaluators'))
    )
    with op.batch_alter_table('tender_evaluators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_evaluators_project_id'), ['project_id'], unique=False)

    op.create_table('tender_scoring_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('max_points_centi', sa.Integer(), nullable=False),
    sa.Column('technical', sa.Boolean(), nullable=False),
    sa.Column('past_performance', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['procurement_projects.id'], name=op.f('fk_tender_scoring_items_project_id_procurement_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_scoring_items'))
    )
    with op.batch_alter_table('tender_scoring_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_scoring_items_project_id'), ['project_id'], unique=False)

    op.create_table('tender_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('points_centi', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['tender_bids.id'], name=op.f('fk_tender_scores_bid_id_tender_bids')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_tender_scores_entered_by_id_users')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['tender_evaluators.id'], name=op.f('fk_tender_scores_evaluator_id_tender_evaluators')),
    sa.ForeignKeyConstraint(['item_id'], ['tender_scoring_items.id'], name=op.f('fk_tender_scores_item_id_tender_scoring_items')),
    sa.ForeignKeyConstraint(['project_id'], ['procurement_projects.id'], name=op.f('fk_tender_scores_project_id_procurement_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_scores')),
    sa.UniqueConstraint('evaluator_id', 'bid_id', 'item_id', name=op.f('uq_tender_scores_evaluator_id'))
    )
    with op.batch_alter_table('tender_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_scores_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_scores_evaluator_id'), ['evaluator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_scores_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_scores_project_id'), ['project_id'], unique=False)

    _owner_types(NEW_OWNER_TYPES)


def downgrade():
    op.execute("DELETE FROM attachments WHERE owner_type = 'procurement_project'")
    _owner_types(OWNER_TYPES)
    with op.batch_alter_table('tender_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_scores_project_id'))
        batch_op.drop_index(batch_op.f('ix_tender_scores_item_id'))
        batch_op.drop_index(batch_op.f('ix_tender_scores_evaluator_id'))
        batch_op.drop_index(batch_op.f('ix_tender_scores_bid_id'))

    op.drop_table('tender_scores')
    with op.batch_alter_table('tender_scoring_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_scoring_items_project_id'))

    op.drop_table('tender_scoring_items')
    with op.batch_alter_table('tender_evaluators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_evaluators_project_id'))

    op.drop_table('tender_evaluators')
    with op.batch_alter_table('tender_bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_bids_project_id'))
        batch_op.drop_index(batch_op.f('ix_tender_bids_contractor_id'))

    op.drop_table('tender_bids')
    with op.batch_alter_table('procurement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_procurement_lines_project_id'))

    op.drop_table('procurement_lines')
    op.drop_table('procurement_projects')
