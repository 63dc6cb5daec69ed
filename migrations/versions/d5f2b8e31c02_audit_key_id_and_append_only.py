"""audit_events: the key id of each keyed event; append-only triggers

Revision ID: d5f2b8e31c02
Revises: f7b4d0a53e24
Create Date: 2026-12-03 09:00:00

Events written before this revision keep key_id NULL (legacy, plain SHA-256); the first event
the app appends afterwards seals them (README, Audit log). UPDATE and DELETE of audit events
(and TRUNCATE on PostgreSQL) raise from now on; the statements are those of
oversight/models/audit.py, frozen here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f2b8e31c02'
down_revision = "f7b4d0a53e24"
branch_labels = None
depends_on = None


MESSAGE = "audit_events is append-only"
CREATE = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused', "
        "ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update", "DROP TRIGGER IF EXISTS audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                   "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
                   "DROP FUNCTION IF EXISTS audit_events_append_only()"],
}


def _run(statements) -> None:
    bind = op.get_bind()
    for statement in statements.get(bind.dialect.name, []):
        bind.exec_driver_sql(statement)


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
    _run(CREATE)


def downgrade():
    _run(DROP)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
