"""appeals, review drafters, evaluation steps, rectification rounds and proposed deductions

Revision ID: b9d6f2c75a46
Revises: c0e7a3d86b57
Create Date: 2026-12-02 16:43:06.197024

Vocabularies that grew (annual evaluation statuses, notice outcomes) get their CHECK rebuilt
with the codes written out as they stand at this revision. SQLite alters a table by rebuilding
it (batch mode), with foreign-key enforcement off while it does.
"""
from datetime import datetime, timedelta

from alembic import op
import sqlalchemy as sa

COUNTY_OFFSET = timedelta(hours=8)  # the county's clock, UTC+8, as at this revision


# revision identifiers, used by Alembic.
revision = 'b9d6f2c75a46'
down_revision = 'c0e7a3d86b57'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('recheck_ordered_by_id', sa.Integer(), nullable=True),
    sa.Column('recheck_ordered_at', sa.DateTime(), nullable=True),
    sa.Column('recheck_assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('recheck_by_id', sa.Integer(), nullable=True),
    sa.Column('recheck_method', sa.String(length=16), nullable=True),
    sa.Column('recheck_on', sa.Date(), nullable=True),
    sa.Column('recheck_values', sa.JSON(), nullable=True),
    sa.Column('recheck_comparison', sa.JSON(), nullable=True),
    sa.Column('recheck_fields_compared', sa.Integer(), nullable=True),
    sa.Column('recheck_fields_differing', sa.Integer(), nullable=True),
    sa.Column('recheck_passed', sa.Boolean(), nullable=True),
    sa.Column('recheck_note', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('final_passed', sa.Boolean(), nullable=True),
    sa.CheckConstraint("decision IN ('upheld', 'overturned')", name=op.f('ck_appeals_decision')),
    sa.CheckConstraint("recheck_method IN ('入户复核', '邻里走访', '电话核实')", name=op.f('ck_appeals_recheck_method')),
    sa.CheckConstraint("status IN ('filed', 'recheck_ordered', 'rechecked', 'decided')", name=op.f('ck_appeals_status')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_appeals_contract_id_contracts')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_appeals_filed_by_id_users')),
    sa.ForeignKeyConstraint(['recheck_assigned_to_id'], ['users.id'], name=op.f('fk_appeals_recheck_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['recheck_by_id'], ['users.id'], name=op.f('fk_appeals_recheck_by_id_users')),
    sa.ForeignKeyConstraint(['recheck_ordered_by_id'], ['users.id'], name=op.f('fk_appeals_recheck_ordered_by_id_users')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_appeals_spot_check_id_spot_checks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('spot_check_id', name=op.f('uq_appeals_spot_check_id'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_contract_id'), ['contract_id'], unique=False)

    op.create_table('proposed_deductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('points_centi', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('dismiss_reason', sa.Text(), nullable=True),
    sa.Column('review_item_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'confirmed', 'dismissed')", name=op.f('ck_proposed_deductions_status')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_proposed_deductions_contract_id_contracts')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_proposed_deductions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['notice_id'], ['rectification_notices.id'], name=op.f('fk_proposed_deductions_notice_id_rectification_notices')),
    sa.ForeignKeyConstraint(['review_item_id'], ['review_manual_items.id'], name=op.f('fk_proposed_deductions_review_item_id_review_manual_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposed_deductions')),
    sa.UniqueConstraint('notice_id', name=op.f('uq_proposed_deductions_notice_id'))
    )
    with op.batch_alter_table('proposed_deductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposed_deductions_contract_id'), ['contract_id'], unique=False)

    with _foreign_keys_off():
        with op.batch_alter_table('quarterly_reviews', schema=None) as batch_op:
            batch_op.add_column(sa.Column('computed_by_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_quarterly_reviews_computed_by_id_users'), 'users',
                                        ['computed_by_id'], ['id'])
        with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
            batch_op.add_column(sa.Column('computed_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('comment_deadline', sa.Date(), nullable=True))
            batch_op.add_column(sa.Column('contractor_position', sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column('contractor_comment', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column('commented_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('commented_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('settlement', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column('settled_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('settled_at', sa.DateTime(), nullable=True))
            for column in ('commented_by_id', 'computed_by_id', 'settled_by_id'):
                batch_op.create_foreign_key(batch_op.f(f'fk_annual_evaluations_{column}_users'), 'users',
                                            [column], ['id'])
            batch_op.create_check_constraint(batch_op.f('ck_annual_evaluations_contractor_position'),
                                             "contractor_position IN ('agree', 'disagree')")
        for (table, column), (_, codes) in CHECKS.items():
            _replace_check(table, column, codes)
        _number_notices()


def downgrade():
    with _foreign_keys_off():
        _unnumber_notices()
        for (table, column), (codes, _) in CHECKS.items():
            _replace_check(table, column, codes)
        with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_annual_evaluations_contractor_position'), type_='check')
            for column in ('commented_by_id', 'computed_by_id', 'settled_by_id'):
                batch_op.drop_constraint(batch_op.f(f'fk_annual_evaluations_{column}_users'), type_='foreignkey')
            for column in ('settled_at', 'settled_by_id', 'settlement', 'commented_by_id', 'commented_at',
                           'contractor_comment', 'contractor_position', 'comment_deadline', 'published_at',
                           'computed_by_id'):
                batch_op.drop_column(column)
        with op.batch_alter_table('quarterly_reviews', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_quarterly_reviews_computed_by_id_users'), type_='foreignkey')
            batch_op.drop_column('computed_by_id')
    with op.batch_alter_table('proposed_deductions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposed_deductions_contract_id'))

    op.drop_table('proposed_deductions')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_contract_id'))

    op.drop_table('appeals')


# (table, column) → (codes before, codes after)
CHECKS = {
    ("annual_evaluations", "status"): (("draft", "approved"),
                                       ("draft", "published", "agreed", "disputed", "settled", "approved")),
    ("rectification_notices", "outcome"): (("accepted", "not_accepted"), ("accepted", "not_accepted", "withdrawn")),
}


def _replace_check(table: str, column: str, codes: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{table}_{column}"),
                                      f"{column} IN ({', '.join(repr(code) for code in codes)})")


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


def _number_notices() -> None:
    """Rounds, numbers and escalation on notices; every existing notice is round 1, numbered in
    the order it was issued within its county year (UTC+8)."""
    with op.batch_alter_table('rectification_notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('previous_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalation_handled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalation_handled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalation_note', sa.Text(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_rectification_notices_spot_check_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_rectification_notices_spot_check_id'), ['spot_check_id'], unique=False)
    connection = op.get_bind()
    notices = sa.table('rectification_notices', sa.column('id', sa.Integer), sa.column('issued_at', sa.DateTime),
                       sa.column('year', sa.Integer), sa.column('sequence', sa.Integer),
                       sa.column('number', sa.String))
    taken: dict[int, int] = {}
    for row in connection.execute(sa.select(notices.c.id, notices.c.issued_at)
                                  .order_by(notices.c.issued_at, notices.c.id)).all():
        issued = row.issued_at if isinstance(row.issued_at, datetime) else datetime.fromisoformat(str(row.issued_at))
        year = (issued + COUNTY_OFFSET).year
        taken[year] = taken.get(year, 0) + 1
        connection.execute(notices.update().where(notices.c.id == row.id).values(
            year=year, sequence=taken[year], number=f"〔{year}〕整改第{taken[year]:03d}号"))
    with op.batch_alter_table('rectification_notices', schema=None) as batch_op:
        for column, kind in (('year', sa.Integer()), ('sequence', sa.Integer()), ('number', sa.String(length=64))):
            batch_op.alter_column(column, existing_type=kind, nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_rectification_notices_number'), ['number'])
        batch_op.create_unique_constraint(batch_op.f('uq_rectification_notices_previous_id'), ['previous_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_rectification_notices_year'), ['year', 'sequence'])
        batch_op.create_foreign_key(batch_op.f('fk_rectification_notices_previous_id_rectification_notices'),
                                    'rectification_notices', ['previous_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_rectification_notices_escalation_handled_by_id_users'),
                                    'users', ['escalation_handled_by_id'], ['id'])


def _unnumber_notices() -> None:
    """Back to one notice per check: later rounds are deleted (their first round stays)."""
    op.execute("DELETE FROM proposed_deductions")
    op.execute("UPDATE rectification_notices SET outcome = NULL WHERE outcome = 'withdrawn'")
    op.execute("UPDATE annual_evaluations SET status = 'draft' WHERE status NOT IN ('draft', 'approved')")
    op.execute("DELETE FROM rectification_notices WHERE previous_id IS NOT NULL")
    with op.batch_alter_table('rectification_notices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rectification_notices_escalation_handled_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_rectification_notices_previous_id_rectification_notices'),
                                 type_='foreignkey')
        for name in ('uq_rectification_notices_year', 'uq_rectification_notices_previous_id',
                     'uq_rectification_notices_number'):
            batch_op.drop_constraint(batch_op.f(name), type_='unique')
        batch_op.drop_index(batch_op.f('ix_rectification_notices_spot_check_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_rectification_notices_spot_check_id'), ['spot_check_id'])
        for column in ('escalation_note', 'escalation_handled_by_id', 'escalation_handled_at', 'escalated_at',
                       'number', 'sequence', 'year', 'previous_id', 'round'):
            batch_op.drop_column(column)
