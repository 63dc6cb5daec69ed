"""CHECK constraints: every status and kind column holds a code of its vocabulary

Revision ID: c4e1a7d20b91
Revises: b366ee28732e
Create Date: 2026-11-25 12:00:00

The codes are written out here, as they stood at this revision (oversight/domain/vocabulary.py),
so that this migration builds the same schema whatever the vocabulary becomes later; a later
change of a vocabulary needs a migration of its own. SQLite cannot add a constraint to a table:
batch mode rebuilds each table, with foreign-key enforcement off while it does.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e1a7d20b91'
down_revision = 'b366ee28732e'
branch_labels = None
depends_on = None

CODES = {
    "job_runs": {
        "outcome": ('running', 'succeeded', 'failed'),
        "trigger": ('schedule', 'catch_up', 'manual'),
    },
    "subjects": {
        "category": ('低保', '特困', '低保边缘', '支出型困难'),
        "kind": ('household', 'person'),
    },
    "contracts": {
        "procurement_method": ('公开招标', '竞争性磋商', '竞争性谈判', '单一来源', '询价'),
    },
    "users": {
        "role": ('admin', 'supervisor', 'contractor', 'auditor'),
    },
    "annual_evaluations": {
        "status": ('draft', 'approved'),
    },
    "assignments": {
        "service_type": ('household_survey', 'self_care_assessment', 'care_visit'),
        "status": ('assigned', 'completed', 'overdue', 'cancelled'),
    },
    "payment_records": {
        "kind": ('fixed', 'performance'),
    },
    "sampling_draws": {
        "purpose": ('spot_check', 'callback'),
        "service_type": ('household_survey', 'self_care_assessment', 'care_visit'),
    },
    "service_lines": {
        "service_type": ('household_survey', 'self_care_assessment', 'care_visit'),
    },
    "upload_batches": {
        "service_type": ('household_survey', 'self_care_assessment', 'care_visit'),
        "status": ('pending', 'processing', 'accepted', 'rejected', 'failed'),
    },
    "completion_records": {
        "service_type": ('household_survey', 'self_care_assessment', 'care_visit'),
    },
    "quarterly_reviews": {
        "status": ('draft', 'published', 'agreed', 'disputed', 'settled', 'approved'),
        "contractor_position": ('agree', 'disagree'),
    },
    "draw_items": {
        "stratum": ('targeted', 'flagged', 'random'),
    },
    "callbacks": {
        "status": ('pending', 'answered', 'unreachable', 'refused'),
    },
    "spot_checks": {
        "method": ('入户复核', '邻里走访', '电话核实'),
    },
    "callback_attempts": {
        "outcome": ('接通', '无人接听', '空号', '拒访'),
    },
    "complaints": {
        "source": ('callback', 'walk_in', 'error_rate'),
        "status": ('open', 'targeted', 'closed'),
    },
    "rectification_notices": {
        "outcome": ('accepted', 'not_accepted'),
        "status": ('open', 'responded', 'closed'),
    },
}


def _condition(column: str, codes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def upgrade():
    with _foreign_keys_off():
        for table, columns in CODES.items():
            with op.batch_alter_table(table) as batch:
                for column, codes in columns.items():
                    batch.create_check_constraint(op.f(f"ck_{table}_{column}"), _condition(column, codes))


def downgrade():
    with _foreign_keys_off():
        for table, columns in CODES.items():
            with op.batch_alter_table(table) as batch:
                for column in columns:
                    batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")


class _foreign_keys_off:
    """SQLite rebuilds a table by copying it and dropping the old one, which the foreign keys
    that point at it (the app turns enforcement on) would refuse; PostgreSQL alters in place."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            op.execute("PRAGMA foreign_keys=OFF")

    def __exit__(self, *exc_info):
        if self.sqlite:
            op.execute("PRAGMA foreign_keys=ON")
