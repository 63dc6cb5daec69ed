"""The county policies of PostgreSQL's row-level security, as DDL (`services.row_security`
decides the setting they read).

Every table with a `county_id` column gets, on PostgreSQL, row-level security enabled and forced
(the tables' owner is held to it too, so the owner that runs the migrations and a non-owner
`oversight_app` role alike see only their scope) and one policy, `county_scope`, for every
command: a row is seen, and may be written, when its county is in `oversight.county_ids` or the
setting is `*` (the system). An unset or empty setting sees nothing. A superuser, or a role with
BYPASSRLS, is not held to any policy: the app must never connect as one.
"""
from __future__ import annotations

from sqlalchemy import DDL, MetaData, Table, event

POLICY = "county_scope"
SETTING = "oversight.county_ids"
# NULLIF keeps the cast away from '*', whichever side of the OR PostgreSQL evaluates first.
VISIBLE = (f"current_setting('{SETTING}', true) = '*' OR county_id = ANY "
           f"(string_to_array(NULLIF(current_setting('{SETTING}', true), '*'), ',')::integer[])")


# The audit log keeps a chain per county but is not held to the policy: every writer appends to
# the city chain as well as its own (an event of a row above county level) and reads the heads
# it continues, and the verification reads every chain.
UNSCOPED = frozenset({"audit_events"})


def county_scoped(table: Table) -> bool:
    return "county_id" in table.c and table.name not in UNSCOPED


def enable_statements(table_name: str) -> list[str]:
    """The DDL that puts `table_name` under the county policy."""
    return [f'ALTER TABLE "{table_name}" ENABLE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table_name}" FORCE ROW LEVEL SECURITY',
            f'CREATE POLICY {POLICY} ON "{table_name}" USING ({VISIBLE}) WITH CHECK ({VISIBLE})']


def disable_statements(table_name: str) -> list[str]:
    return [f'DROP POLICY IF EXISTS {POLICY} ON "{table_name}"',
            f'ALTER TABLE "{table_name}" NO FORCE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table_name}" DISABLE ROW LEVEL SECURITY']


def install_policies(metadata: MetaData) -> None:
    """`create_all` (the tests, a fresh schema) puts every county-scoped table of `metadata`
    under its policy on PostgreSQL, as the migrations do."""
    for table in metadata.tables.values():
        if not county_scoped(table) or table.info.get("row_security_installed"):
            continue
        for statement in enable_statements(table.name):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
        table.info["row_security_installed"] = True
