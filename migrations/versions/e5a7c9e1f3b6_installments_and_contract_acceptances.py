"""installments and contract acceptances

Revision ID: e5a7c9e1f3b6
Revises: f5b7d9e1a3c4
Create Date: 2026-12-03 16:41:23

The payment schedule (installments) and the per-contract, per-year 履约验收 with its team.
The vocabulary codes are written out as they stand at this revision.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c9e1f3b6'
down_revision = 'f5b7d9e1a3c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contract_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('conclusion', sa.String(length=24), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("conclusion IN ('qualified', 'basically_qualified', 'unqualified')", name=op.f('ck_contract_acceptances_conclusion')),
    sa.CheckConstraint("status IN ('draft', 'concluded')", name=op.f('ck_contract_acceptances_status')),
    sa.ForeignKeyConstraint(['concluded_by_id'], ['users.id'], name=op.f('fk_contract_acceptances_concluded_by_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_acceptances_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_contract_acceptances_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_acceptances')),
    sa.UniqueConstraint('contract_id', 'year', name=op.f('uq_contract_acceptances_contract_id'))
    )
    with op.batch_alter_table('contract_acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_acceptances_contract_id'), ['contract_id'], unique=False)

    op.create_table('acceptance_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acceptance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('organisation', sa.String(length=100), nullable=True),
    sa.CheckConstraint("role IN ('leader', 'purchaser', 'expert', 'recipient', 'other')", name=op.f('ck_acceptance_members_role')),
    sa.ForeignKeyConstraint(['acceptance_id'], ['contract_acceptances.id'], name=op.f('fk_acceptance_members_acceptance_id_contract_acceptances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_members'))
    )
    with op.batch_alter_table('acceptance_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acceptance_members_acceptance_id'), ['acceptance_id'], unique=False)

    op.create_table('installments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('share_bp', sa.Integer(), nullable=True),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('held_reason', sa.Text(), nullable=True),
    sa.Column('held_at', sa.DateTime(), nullable=True),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_fen', sa.BigInteger(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("condition IN ('date', 'acceptance', 'evaluation')", name=op.f('ck_installments_condition')),
    sa.CheckConstraint("kind IN ('advance', 'progress', 'performance')", name=op.f('ck_installments_kind')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_installments_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_installments_created_by_id_users')),
    sa.ForeignKeyConstraint(['held_by_id'], ['users.id'], name=op.f('fk_installments_held_by_id_users')),
    sa.ForeignKeyConstraint(['paid_by_id'], ['users.id'], name=op.f('fk_installments_paid_by_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment_records.id'], name=op.f('fk_installments_payment_id_payment_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installments'))
    )
    with op.batch_alter_table('installments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_installments_contract_id'), ['contract_id'], unique=False)



def downgrade():
    with op.batch_alter_table('installments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_installments_contract_id'))

    op.drop_table('installments')
    with op.batch_alter_table('acceptance_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acceptance_members_acceptance_id'))

    op.drop_table('acceptance_members')
    with op.batch_alter_table('contract_acceptances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_acceptances_contract_id'))

    op.drop_table('contract_acceptances')
