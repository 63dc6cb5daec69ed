"""media audit (影像核验): draws of app visits' photos and signatures, and the verdicts on them;
app visits indexed by check-in time (a visit's near-identical photos are looked up by it)

Revision ID: b6c8d0e2a4f5
Revises: c7d9e1f3b5a6
Create Date: 2026-12-04 20:30:00

A draw's purpose gains `media_audit`; the codes are written out as they stand at this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6c8d0e2a4f5'
down_revision = 'c7d9e1f3b5a6'
branch_labels = None
depends_on = None

PURPOSES_BEFORE = ('spot_check', 'callback')
PURPOSES = (*PURPOSES_BEFORE, 'media_audit')
VERDICTS = ('real', 'doubtful')


def _codes(codes: tuple[str, ...]) -> str:
    return ', '.join(repr(code) for code in codes)


def upgrade():
    with op.batch_alter_table('sampling_draws', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sampling_draws_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sampling_draws_purpose'), f"purpose IN ({_codes(PURPOSES)})")

    op.create_table('media_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_item_id', sa.Integer(), nullable=False),
    sa.Column('visit_media_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"verdict IN ({_codes(VERDICTS)})", name=op.f('ck_media_reviews_verdict')),
    sa.ForeignKeyConstraint(['draw_item_id'], ['draw_items.id'], name=op.f('fk_media_reviews_draw_item_id_draw_items')),
    sa.ForeignKeyConstraint(['visit_media_id'], ['visit_media.id'], name=op.f('fk_media_reviews_visit_media_id_visit_media')),
    sa.ForeignKeyConstraint(['record_id'], ['completion_records.id'], name=op.f('fk_media_reviews_record_id_completion_records')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_media_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_reviews')),
    sa.UniqueConstraint('draw_item_id', 'visit_media_id', name=op.f('uq_media_reviews_draw_item_id'))
    )
    with op.batch_alter_table('media_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_reviews_draw_item_id'), ['draw_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_reviews_record_id'), ['record_id'], unique=False)

    with op.batch_alter_table('app_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_visits_check_in_at'), ['check_in_at'], unique=False)


def downgrade():
    with op.batch_alter_table('app_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_visits_check_in_at'))

    with op.batch_alter_table('media_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_reviews_record_id'))
        batch_op.drop_index(batch_op.f('ix_media_reviews_draw_item_id'))
    op.drop_table('media_reviews')

    draws = sa.table('sampling_draws', sa.column('id', sa.Integer), sa.column('purpose', sa.String))
    items = sa.table('draw_items', sa.column('draw_id', sa.Integer))
    media_draws = sa.select(draws.c.id).where(draws.c.purpose == 'media_audit')
    # A media audit has no purpose before this revision: its draws and their items go.
    op.execute(items.delete().where(items.c.draw_id.in_(media_draws)))
    op.execute(draws.delete().where(draws.c.purpose == 'media_audit'))
    with op.batch_alter_table('sampling_draws', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sampling_draws_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sampling_draws_purpose'), f"purpose IN ({_codes(PURPOSES_BEFORE)})")
