"""callbacks: who answered; verification imports and their evidence flags

Revision ID: f7b4d0a53e24
Revises: e6a3c9f42d13
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
down_revision = "e6a3c9f42d13"
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


def downgrade():
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
