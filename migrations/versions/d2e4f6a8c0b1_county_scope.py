"""county scope: every county-scoped row belongs to a county, every user to an area

Revision ID: d2e4f6a8c0b1
Revises: a2c4e6f8b0d1
Create Date: 2026-12-04 20:40:00

An existing database held one county. The upgrade creates that county's province, city and county
in `areas` (or finds them there) and puts every row and every user in it: the county's code and
name from the environment at upgrade (OVERSIGHT_COUNTY_CODE, OVERSIGHT_COUNTY_NAME, and for a
county elsewhere OVERSIGHT_CITY_NAME, OVERSIGHT_PROVINCE_NAME), else 360704 赣县区 of 360700 赣州市,
360000 江西省 — the county the app was built for — named as its local standards name it if they do.
`local_standards.year` becomes unique per county.
"""
import os
from datetime import datetime, UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2e4f6a8c0b1'
down_revision = 'a2c4e6f8b0d1'
branch_labels = None
depends_on = None

COUNTY_TABLES = ("contractors", "contracts", "subjects", "assignments", "completion_records", "sampling_draws",
                 "quarterly_reviews", "annual_evaluations", "local_standards", "procurement_projects")

DEFAULT_COUNTY = ("360704", "赣县区")
# The names of the city and province of the default county; another county's come from the
# environment or stand as their codes until an area file names them.
KNOWN_NAMES = {"360700": "赣州市", "360000": "江西省"}


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def _county_code_and_name(connection) -> tuple[str, str]:
    code = os.environ.get("OVERSIGHT_COUNTY_CODE") or DEFAULT_COUNTY[0]
    name = os.environ.get("OVERSIGHT_COUNTY_NAME")
    if not name:
        name = connection.execute(sa.text(
            "SELECT county FROM local_standards ORDER BY year DESC LIMIT 1")).scalar()
    if not name:
        name = DEFAULT_COUNTY[1] if code == DEFAULT_COUNTY[0] else code
    if len(code) != 6 or not code.isdigit() or code[4:] == "00":
        raise ValueError(f"OVERSIGHT_COUNTY_CODE {code!r} is not a county's 6-digit code")
    return code, name.strip()[:64]


def _area(connection, code: str, name: str, level: str, parent_id) -> int:
    """The id of the area with `code`, inserted if absent."""
    found = connection.execute(sa.text("SELECT id FROM areas WHERE code = :code"), {"code": code}).scalar()
    if found is not None:
        return found
    now = _now()
    if connection.dialect.name == "postgresql":  # rows written with their ids leave the sequence behind
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('areas', 'id'), "
                                   "COALESCE(MAX(id), 0) + 1, false) FROM areas"))
    connection.execute(sa.text(
        "INSERT INTO areas (code, name, level, parent_id, created_at, updated_at) "
        "VALUES (:code, :name, :level, :parent_id, :now, :now)"),
        {"code": code, "name": name, "level": level, "parent_id": parent_id, "now": now})
    return connection.execute(sa.text("SELECT id FROM areas WHERE code = :code"), {"code": code}).scalar_one()


def _home_county(connection) -> int:
    code, name = _county_code_and_name(connection)
    city_code, province_code = code[:4] + "00", code[:2] + "0000"
    province_name = os.environ.get("OVERSIGHT_PROVINCE_NAME") or KNOWN_NAMES.get(province_code, province_code)
    city_name = os.environ.get("OVERSIGHT_CITY_NAME") or KNOWN_NAMES.get(city_code, city_code)
    province = _area(connection, province_code, province_name, "province", None)
    city = _area(connection, city_code, city_name, "city", province)
    return _area(connection, code, name, "county", city)


def _scope(table: str, column: str, area_id: int) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text(f"UPDATE {table} SET {column} = :area"), {"area": area_id})
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
        batch_op.create_foreign_key(batch_op.f(f'fk_{table}_{column}_areas'), 'areas', [column], ['id'])


def upgrade():
    county = _home_county(op.get_bind())
    for table in COUNTY_TABLES:
        _scope(table, "county_id", county)
    _scope("users", "area_id", county)
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.drop_constraint('uq_local_standards_year', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_local_standards_county_id'), ['county_id', 'year'])


def _unscope(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f'fk_{table}_{column}_areas'), type_='foreignkey')
        batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        batch_op.drop_column(column)


def downgrade():
    """Back to one county: only a database that holds one county's standards per year goes back."""
    with op.batch_alter_table('local_standards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_local_standards_county_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_local_standards_year'), ['year'])
    _unscope("users", "area_id")
    for table in reversed(COUNTY_TABLES):
        _unscope(table, "county_id")
