"""The Alembic migrations build, from an empty database, exactly the schema the models declare."""
import importlib.util
import os
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, MetaData, create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from oversight import create_app
from oversight.domain.figures import ReviewFigures
from oversight.extensions import db
from oversight.models import QuarterlyReview
from oversight.models.row_security import county_scoped
from tests.conftest import POSTGRES_URL
from tests.unit.test_figures import STORED_REVIEW


def test_init_db_upgrades_an_empty_database_to_the_models(tmp_path):
    config = {"TESTING": True}
    schema = None
    if POSTGRES_URL:
        schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config.update(SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app(config)
    try:
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        with app.app_context(), db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            db.engine.dispose()
    finally:
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


INITIAL = "b366ee28732e"
VOCABULARY_CHECKS = "c4e1a7d20b91"
SESSION_VERSION = "e6a3c9f42d13"
ATTACHMENT_OWNERS = "a8c5e1b64f35"
AUDIT_KEYS = "d5f2b8e31c02"
PROCUREMENT = "c3e5a7b9d1f4"
COUNTY_SCOPE = "d2e4f6a8c0b1"
BEFORE_AUDIT_CHAINS = "b6c8d0e2a4f5"
AUDIT_CHAINS = "a5b7c9d1f3e4"
REASSESSMENT = "f4a6b8c0e2d3"


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty database of its own (a SQLite file, or a PostgreSQL schema)."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'upgraded.sqlite'}"}
    schema = None
    if POSTGRES_URL:
        schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config.update(SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
    app = create_app(config)
    with app.app_context():
        yield app
        db.engine.dispose()
    if schema:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _vocabulary_checks() -> dict[tuple[str, str], tuple[str, ...]]:
    """(table, column) → the codes its model's CHECK constraint allows."""
    return {(table.name, constraint.info["column"]): constraint.info["vocabulary"].codes()
            for table in db.metadata.sorted_tables for constraint in table.constraints
            if isinstance(constraint, CheckConstraint) and "vocabulary" in constraint.info}


def _migration(revision: str):
    """The module of one migration file, by its revision id."""
    path = next(Path(__file__).parents[2].glob(f"migrations/versions/{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checks_at_vocabulary_revision() -> dict[tuple[str, str], tuple[str, ...]]:
    """(table, column) → the codes the vocabulary-checks revision wrote out (later vocabularies
    grow in migrations of their own)."""
    return {(table, column): codes for table, columns in _migration(VOCABULARY_CHECKS).CODES.items()
            for column, codes in columns.items()}


def _value(column, row: int):
    """A value of the column's type for row `row`, distinct per row so that unique keys hold."""
    kind = column.type.python_type
    if kind is bool:
        return False
    if kind is int:
        return row + 1
    if kind is float:
        return 0.5
    if kind is date:
        return date(2026, 1, 1) + timedelta(days=row)
    if kind is datetime:
        return datetime(2026, 1, 1, 8) + timedelta(hours=row)
    if kind in (dict, list):
        return {"row": row}
    text_value = f"{column.name[:8]}{row}"
    return text_value[:column.type.length] if getattr(column.type, "length", None) else text_value


def _fill_every_table(connection, checks) -> dict[str, list[dict]]:
    """As many rows in every table of the database as it stands as the longest vocabulary has
    codes, each checked column cycling through its codes; row n's foreign keys point at row n."""
    tables = MetaData()
    tables.reflect(connection)
    count = max(len(codes) for codes in checks.values())
    written = {}
    for table in tables.sorted_tables:
        if table.name == "alembic_version":
            continue
        coded = {column: codes for (name, column), codes in checks.items() if name == table.name}
        rows = []
        for row in range(count):
            values = {}
            for column in table.columns:
                if column.name in coded:
                    codes = coded[column.name]
                    values[column.name] = codes[row % len(codes)]
                elif column.primary_key:
                    values[column.name] = row + 1
                elif column.foreign_keys and not column.nullable:
                    values[column.name] = row + 1
                elif not column.nullable:
                    values[column.name] = _value(column, row)
            rows.append(values)
        connection.execute(table.insert(), rows)
        written[table.name] = rows
    return written


def _contents(connection, names) -> dict[str, list[tuple]]:
    tables = MetaData()
    tables.reflect(connection, only=list(names))
    return {name: [tuple(row) for row in connection.execute(select(tables.tables[name]).order_by(
        *tables.tables[name].primary_key.columns))] for name in names}


def _present(checks, connection) -> dict[tuple[str, str], tuple[str, ...]]:
    """The checks on columns the database as it stands has (later revisions add their own)."""
    schema = inspect(connection)
    tables = set(schema.get_table_names())
    return {(table, column): codes for (table, column), codes in checks.items()
            if table in tables and column in {found["name"] for found in schema.get_columns(table)}}


def test_the_vocabulary_checks_migrate_existing_rows_and_refuse_unknown_codes(migrated_app):
    upgrade(revision=INITIAL)
    with db.engine.connect() as connection:
        checks = _present(_checks_at_vocabulary_revision(), connection)
    with db.engine.begin() as connection:
        written = _fill_every_table(connection, checks)
    assert {table for table, _ in checks} <= set(written)
    with db.engine.connect() as connection:
        before = _contents(connection, written)

    upgrade(revision=VOCABULARY_CHECKS)

    with db.engine.connect() as connection:
        assert _contents(connection, written) == before
        schema = inspect(connection)
        for table in {table for table, _ in checks}:
            found = {check["name"]: set(re.findall(r"'([^']*)'", check["sqltext"]))
                     for check in schema.get_check_constraints(table)}
            expected = {f"ck_{table}_{column}": set(codes) for (name, column), codes in checks.items() if name == table}
            assert found == expected, table
    for (table, column), codes in checks.items():
        with db.engine.connect() as connection:
            with pytest.raises(IntegrityError), connection.begin():
                connection.execute(text(f"UPDATE {table} SET {column} = 'unknown' WHERE id = 1"))
            with connection.begin():  # every code stays allowed
                connection.execute(text(f"UPDATE {table} SET {column} = :code WHERE id = 1"), {"code": codes[-1]})


def test_the_attachment_and_correction_revision_keeps_spot_check_files_and_checks_its_codes(migrated_app):
    upgrade(revision=SESSION_VERSION)
    with db.engine.connect() as connection:  # the session-version revision checks what c4e1a7d20b91 wrote
        checks = _present(_checks_at_vocabulary_revision(), connection)
    with db.engine.begin() as connection:
        before = _fill_every_table(connection, checks)["attachments"]
    kept = ("id", "filename", "content_type", "size_bytes", "sha256", "stored_path", "uploaded_at")
    query = text(f"SELECT owner_type, owner_id, uploaded_by_id, {', '.join(kept)} FROM attachments ORDER BY id")

    upgrade(revision=ATTACHMENT_OWNERS)

    with db.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    assert [row[:3] + row[3:5] for row in rows] == [
        ("spot_check", row["spot_check_id"], None, row["id"], row["filename"]) for row in before]
    assert len(rows) == len(before) > 1
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE attachments SET owner_type = 'unknown' WHERE id = 1"))
        with connection.begin():
            connection.execute(text("UPDATE attachments SET owner_type = 'appeal' WHERE id = 1"))
        request = ("INSERT INTO correction_requests (id, record_id, contract_id, status, changes, reason, "
                   "requested_by_id, requested_at) VALUES (:id, 1, 1, :status, '[]', '原因', 1, '2026-01-01 08:00:00')")
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text(request), {"id": 1, "status": "unknown"})
        with connection.begin():
            for number, status in enumerate(("pending", "approved", "refused"), start=1):
                connection.execute(text(request), {"id": number, "status": status})

    downgrade(revision=SESSION_VERSION)

    with db.engine.connect() as connection:
        back = connection.execute(text("SELECT id, spot_check_id FROM attachments ORDER BY id")).all()
    assert [tuple(row) for row in back] == [(row["id"], row["spot_check_id"]) for row in before[1:]]


EVIDENCE = "f7b4d0a53e24"


def test_the_evidence_revision_keeps_every_row_and_old_callbacks_read_not_recorded(migrated_app):
    upgrade(revision=f"{EVIDENCE}-1")
    checks = _codes_before_appeals()
    with db.engine.connect() as connection:
        present = _present(checks, connection)
    with db.engine.begin() as connection:
        written = _fill_every_table(connection, present)
    with db.engine.connect() as connection:
        before = _contents(connection, written)

    upgrade(revision=EVIDENCE)

    with db.engine.connect() as connection:
        after = _contents(connection, written)
        columns = [column["name"] for column in inspect(connection).get_columns("callbacks")]
    answered_by = columns.index("answered_by")
    assert [row[answered_by] for row in after["callbacks"]] == [None] * len(before["callbacks"])
    assert [row[:answered_by] + row[answered_by + 1:] for row in after["callbacks"]] == before["callbacks"]
    assert {name: rows for name, rows in after.items() if name != "callbacks"} == {
        name: rows for name, rows in before.items() if name != "callbacks"}
    schema = inspect(db.engine)
    added = {key: codes for key, codes in checks.items() if key == ("callbacks", "answered_by")
             or (key[0] not in before and key[0] in schema.get_table_names())}  # later revisions' tables apart
    assert ("callbacks", "answered_by") in added
    for (table, column), codes in added.items():
        found = {check["name"]: set(re.findall(r"'([^']*)'", check["sqltext"]))
                 for check in schema.get_check_constraints(table)}
        assert found[f"ck_{table}_{column}"] == set(codes)
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE callbacks SET answered_by = 'unknown' WHERE id = 1"))
        with connection.begin():
            connection.execute(text("UPDATE callbacks SET answered_by = 'family' WHERE id = 1"))


def test_the_audit_revision_keeps_legacy_events_verifying_and_makes_the_table_append_only(migrated_app, tmp_path):
    from oversight.domain.audit_chain import GENESIS_HASH, event_hash
    from oversight.models import AuditEvent, KpiScheme
    from oversight.services.audit import verify_audit_log

    migrated_app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "anchors.jsonl")
    upgrade(revision=EVIDENCE)
    prev, rows = GENESIS_HASH, []
    for i in range(3):  # as the code before keying wrote them
        fields = {"occurred_at": datetime(2026, 6, 1, 8, i), "user_id": None, "actor": "before", "action": "update",
                  "object_type": "Contract", "object_id": str(i), "changes": {"n": i}, "ip_address": None}
        digest = event_hash(fields, prev)
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    legacy = MetaData()
    legacy.reflect(db.engine, only=["audit_events"])
    with db.engine.begin() as connection:
        connection.execute(legacy.tables["audit_events"].insert(), rows)

    upgrade(revision=AUDIT_KEYS)

    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with db.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"), connection.begin():
                connection.execute(text(statement))
    # Up to the chains per county: the legacy events are the city chain and verify as they are.
    upgrade(revision=AUDIT_CHAINS)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events WHERE county_id IS NULL")).scalar() == 3
    assert verify_audit_log() == (3, None)
    # A model unchanged since (a contractor has a county now, which this revision's table lacks).
    db.session.add(KpiScheme(code="legacy", version=1, name="甲", definition={}))
    db.session.commit()
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.key_id).order_by(AuditEvent.id)).all()
    assert [action for action, _ in actions] == ["update"] * 3 + ["seal_legacy", "create"]
    assert [key_id is None for _, key_id in actions] == [True] * 3 + [False] * 2
    assert verify_audit_log() == (5, None)
    db.session.remove()

    downgrade(revision=BEFORE_AUDIT_CHAINS)  # the chains' column dropped, the table (and its triggers) kept
    with db.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"), connection.begin():
            connection.execute(text("UPDATE audit_events SET actor = 'x'"))
        assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 5
    downgrade(revision=EVIDENCE)
    with db.engine.begin() as connection:  # the triggers go with the revision
        connection.execute(text("UPDATE audit_events SET actor = 'x' WHERE id = 1"))


def test_the_fingerprint_columns_come_empty_and_older_figures_still_read(migrated_app):
    upgrade(revision=AUDIT_KEYS)  # the revision before the fingerprints
    with db.engine.connect() as connection:
        checks = _present(_codes_before_appeals(), connection)
    with db.engine.begin() as connection:
        _fill_every_table(connection, checks)
        tables = MetaData()
        tables.reflect(connection, only=["quarterly_reviews"])
        connection.execute(tables.tables["quarterly_reviews"].update().values(figures=STORED_REVIEW))
        before = connection.execute(text("SELECT COUNT(*) FROM quarterly_reviews")).scalar_one()

    upgrade()

    with db.engine.connect() as connection:
        for table in ("quarterly_reviews", "annual_evaluations"):
            rows = connection.execute(text(f"SELECT evidence_sha256, evidence_fingerprint FROM {table}")).all()
            assert rows and all(row == (None, None) for row in rows), table
        assert connection.execute(text("SELECT COUNT(*) FROM quarterly_reviews")).scalar_one() == before
    review = db.session.get(QuarterlyReview, 1)
    assert review.figures == ReviewFigures.from_json(STORED_REVIEW) and review.evidence_sha256 is None
    db.session.remove()


APPEALS = "b9d6f2c75a46"
FINGERPRINTS = "c0e7a3d86b57"
FIELD_APP = "f6b8d0a2c4e7"
MEDIA_AUDIT = "b6c8d0e2a4f5"
PAGE_JOBS = "b1d3f5a7c9e2"


def _codes_before_appeals() -> dict[tuple[str, str], tuple[str, ...]]:
    """The models' codes, as the vocabularies the appeals revision grew stood before it (and the
    attachment owners before the procurement revision added its own, the export jobs' statuses
    before the page jobs' revision, the notification kinds before the re-assessment revision, the
    draws' purposes before the media audit's)."""
    return {**_vocabulary_checks(), ("attachments", "owner_type"): _migration(PROCUREMENT).OWNER_TYPES,
            **{key: old for key, (old, _) in _migration(APPEALS).CHECKS.items()},
            ("users", "role"): _migration(FIELD_APP).ROLES_BEFORE,
            ("export_jobs", "status"): _migration(PAGE_JOBS).STATUSES_BEFORE,
            ("sampling_draws", "purpose"): _migration(MEDIA_AUDIT).PURPOSES_BEFORE,
            **{(table, "kind"): _migration(REASSESSMENT).KINDS_BEFORE
               for table in ("notifications", "notification_preferences")}}


def test_existing_notices_are_numbered_per_county_year_by_the_appeals_revision(migrated_app):
    upgrade(revision=FINGERPRINTS)
    with db.engine.connect() as connection:
        checks = _present(_codes_before_appeals(), connection)
    with db.engine.begin() as connection:
        written = _fill_every_table(connection, checks)
        # Issued 16:00 UTC on 31 December 2025 is 2026 in the county; the others keep their order.
        for row_id, issued in ((1, "2026-01-01 08:00:00"), (2, "2025-12-31 16:00:00"), (3, "2025-12-31 15:59:59"),
                               (4, "2025-03-01 00:00:00")):
            connection.execute(text("UPDATE rectification_notices SET issued_at = :issued WHERE id = :id"),
                               {"issued": issued, "id": row_id})
    assert len(written["rectification_notices"]) > 4

    upgrade(revision=APPEALS)

    with db.engine.connect() as connection:
        rows = {row.id: (row.round, row.year, row.sequence, row.number) for row in connection.execute(text(
            "SELECT id, round, year, sequence, number FROM rectification_notices"))}
    assert rows[4] == (1, 2025, 1, "〔2025〕整改第001号")
    assert rows[3] == (1, 2025, 2, "〔2025〕整改第002号")
    assert rows[2][1:] == (2026, 1, "〔2026〕整改第001号") and rows[1][1:3] == (2026, 2)
    assert len({number for *_, number in rows.values()}) == len(rows)
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE rectification_notices SET sequence = 1, year = 2026 WHERE id = 1"))
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE annual_evaluations SET status = 'unknown' WHERE id = 1"))
        with connection.begin():
            connection.execute(text("UPDATE annual_evaluations SET status = 'published' WHERE id = 1"))
            connection.execute(text("UPDATE rectification_notices SET outcome = 'withdrawn' WHERE id = 1"))


def test_the_field_app_revision_marks_existing_records_uploaded_or_entered_and_admits_field_workers(migrated_app):
    upgrade(revision=f"{FIELD_APP}-1")
    with db.engine.connect() as connection:
        checks = _present(_codes_before_appeals(), connection)
    with db.engine.begin() as connection:
        written = _fill_every_table(connection, checks)
        # Row 1 came from the visit form (no batch); the others from uploaded logs.
        connection.execute(text("UPDATE completion_records SET batch_id = id WHERE id > 1"))
    assert len(written["completion_records"]) > 2

    upgrade(revision=FIELD_APP)

    with db.engine.connect() as connection:
        sources = dict(connection.execute(text("SELECT id, source FROM completion_records")).all())
    assert sources == {row["id"]: ("form" if row["id"] == 1 else "upload") for row in written["completion_records"]}
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE completion_records SET source = 'fax' WHERE id = 1"))
        with connection.begin():
            connection.execute(text("UPDATE completion_records SET source = 'app' WHERE id = 1"))
            connection.execute(text("UPDATE users SET role = 'field_worker' WHERE id = 1"))
    downgrade(revision=f"{FIELD_APP}-1")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT role, is_active_account FROM users WHERE id = 1")).one() == (
            "contractor", False)


AREAS = "a2c4e6f8b0d1"
COUNTY_SCOPE = "d2e4f6a8c0b1"
BEFORE_AUDIT_CHAINS = "b6c8d0e2a4f5"
COUNTY_TABLES = ("contractors", "contracts", "subjects", "assignments", "completion_records", "sampling_draws",
                 "quarterly_reviews", "annual_evaluations", "local_standards", "procurement_projects")


def _codes_before_reassessment() -> dict[tuple[str, str], tuple[str, ...]]:
    """The models' codes, the notification kinds as they stood before the re-assessment revision
    and the draws' purposes before the media audit's (both come after the county's)."""
    return {**_vocabulary_checks(), **{(table, "kind"): _migration(REASSESSMENT).KINDS_BEFORE
                                       for table in ("notifications", "notification_preferences")},
            ("sampling_draws", "purpose"): _migration(MEDIA_AUDIT).PURPOSES_BEFORE}


def _one_county_database() -> dict[str, list[tuple]]:
    """A database as the release before the areas' scope left it: rows in every table (a user of
    every role), the local standards naming their county; returns every table's rows."""
    upgrade(revision=AREAS)
    with db.engine.connect() as connection:
        checks = _present(_codes_before_reassessment(), connection)
    with db.engine.begin() as connection:
        written = _fill_every_table(connection, checks)
        connection.execute(text("UPDATE local_standards SET county = '旧县名' WHERE year < 3"))
        connection.execute(text("UPDATE local_standards SET county = '本县' WHERE year >= 3"))
    with db.engine.connect() as connection:
        return _contents(connection, written)


def _upgraded_rows_keep_everything(before: dict[str, list[tuple]]) -> int:
    """Every row of every table is there with its values, and one county more in each scoped row;
    returns that county's id."""
    with db.engine.connect() as connection:
        after = _contents(connection, before)
        schema = inspect(connection)
        counties = set()
        for table, rows in before.items():
            columns = [column["name"] for column in schema.get_columns(table)]
            added = {"county_id"} if table in COUNTY_TABLES else {"area_id"} if table == "users" else set()
            kept = [i for i, name in enumerate(columns) if name not in added]
            if table == "areas":  # the county, its city and province come after the rows there were
                assert after[table][:len(rows)] == rows and len(after[table]) == len(rows) + 3
                continue
            assert [tuple(row[i] for i in kept) for row in after[table]] == rows, table
            for name in added:
                counties |= {row[columns.index(name)] for row in after[table]}
    assert len(counties) == 1
    return counties.pop()


def test_the_county_revision_puts_a_one_county_database_in_its_county_of_a_city(migrated_app):
    before = _one_county_database()
    assert len(before["users"]) > 4 and len(before["completion_records"]) > 4

    upgrade(revision=COUNTY_SCOPE)

    county_id = _upgraded_rows_keep_everything(before)
    with db.engine.connect() as connection:
        areas = {row.code: row for row in connection.execute(text(
            "SELECT id, code, name, level, parent_id FROM areas WHERE code LIKE '36%'"))}
        assert {code: (row.name, row.level) for code, row in areas.items()} == {
            "360000": ("江西省", "province"), "360700": ("赣州市", "city"), "360704": ("本县", "county")}
        assert areas["360704"].id == county_id
        assert areas["360704"].parent_id == areas["360700"].id and areas["360700"].parent_id == areas["360000"].id
    with db.engine.connect() as connection:
        # A second county's standards for a year the first has are allowed now, the first's twice not.
        copy = ("INSERT INTO local_standards (id, county_id, year, county, poverty_line_fen, care_allowance_tier1_fen,"
                " care_allowance_tier2_fen, care_allowance_tier3_fen, holidays, spot_check_share_bp, spot_check_floor,"
                " callback_share_bp, retrain_threshold_bp, recheck_threshold_bp, recheck_min_checks, created_at,"
                " updated_at) SELECT 1000 + id, :county, year, county, poverty_line_fen, care_allowance_tier1_fen,"
                " care_allowance_tier2_fen, care_allowance_tier3_fen, holidays, spot_check_share_bp, spot_check_floor,"
                " callback_share_bp, retrain_threshold_bp, recheck_threshold_bp, recheck_min_checks, created_at,"
                " updated_at FROM local_standards WHERE id = 1")
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text(copy), {"county": county_id})
        with connection.begin():
            connection.execute(text("INSERT INTO areas (id, code, name, level, parent_id, created_at, updated_at) "
                                    "VALUES (900, '360703', '章贡区', 'county', :city, '2026-01-01', '2026-01-01')"),
                               {"city": areas["360700"].id})
            connection.execute(text(copy), {"county": 900})
        with pytest.raises(IntegrityError), connection.begin():
            connection.execute(text("UPDATE contracts SET county_id = NULL WHERE id = 1"))

    # The app (at the newest schema, as it always runs) reads the upgraded rows: every user is
    # scoped to the county and sees its contracts.
    upgrade()
    from oversight.models import Contract, User
    from oversight.services.areas import county_ids_under

    users = db.session.execute(select(User)).scalars().all()
    assert {user.area_id for user in users} == {county_id}
    assert county_ids_under(users[0].area_id) == [county_id]
    assert {contract.county_id for contract in db.session.execute(select(Contract)).scalars()} == {county_id}
    db.session.remove()


def test_the_county_revision_takes_the_county_named_at_upgrade_and_goes_back(migrated_app, monkeypatch):
    before = _one_county_database()
    monkeypatch.setenv("OVERSIGHT_COUNTY_CODE", "360702")
    monkeypatch.setenv("OVERSIGHT_COUNTY_NAME", "章贡区")

    upgrade(revision=COUNTY_SCOPE)

    county_id = _upgraded_rows_keep_everything(before)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT code, name FROM areas WHERE id = :id"), {"id": county_id}).one() == (
            "360702", "章贡区")

    downgrade(revision=AREAS)

    with db.engine.connect() as connection:
        back = _contents(connection, before)
    assert {table: rows for table, rows in back.items() if table != "areas"} == {
        table: rows for table, rows in before.items() if table != "areas"}


STANDARD_VERSIONS = "e3f5a7b9d1c2"


def test_the_standard_versions_revision_makes_each_existing_year_its_version_one_and_goes_back(migrated_app):
    before = _one_county_database()
    upgrade(revision=COUNTY_SCOPE)
    upgrade(revision=STANDARD_VERSIONS)
    with db.engine.connect() as connection:
        standards = connection.execute(text(
            "SELECT id, year, poverty_line_fen, holidays, recheck_min_checks FROM local_standards ORDER BY id")).all()
        versions = connection.execute(text(
            "SELECT standard_id, number, effective_from, reason, created_by_id, poverty_line_fen, poverty_line_rural_fen,"
            " holidays, working_days, recheck_min_checks FROM local_standard_versions ORDER BY standard_id")).all()
        rural = connection.execute(text("SELECT poverty_line_rural_fen FROM local_standards")).scalars().all()
    assert len(standards) == len(before["local_standards"]) > 0
    assert [(v.standard_id, v.number, str(v.effective_from)[:10]) for v in versions] == [
        (s.id, 1, f"{s.year:04d}-01-01") for s in standards]
    for standard, version in zip(standards, versions):
        assert version.poverty_line_fen == version.poverty_line_rural_fen == standard.poverty_line_fen
        assert version.recheck_min_checks == standard.recheck_min_checks and version.created_by_id is None
        assert version.reason == "升级前已有的年度标准"
    assert set(rural) == {None}  # the year's row keeps NULL: its one line stands for both
    downgrade(revision=COUNTY_SCOPE)
    with db.engine.connect() as connection:
        assert "local_standard_versions" not in inspect(connection).get_table_names()
        assert len(connection.execute(text("SELECT id FROM local_standards")).all()) == len(standards)
ROW_SECURITY = "c7d9e1f3b5a6"


def _secured_tables() -> dict[str, tuple[bool, bool, str | None, str | None]]:
    """table → (row security enabled, forced, the county policy's USING, its WITH CHECK)."""
    rows = db.session.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = 'county_scope' "
        "WHERE c.relkind = 'r' AND (c.relrowsecurity OR p.policyname IS NOT NULL)")).all()
    return {row.relname: (row.relrowsecurity, row.relforcerowsecurity, row.qual, row.with_check) for row in rows}


@pytest.mark.skipif(not POSTGRES_URL, reason="row-level security is PostgreSQL's; the revision does nothing on SQLite")
def test_the_row_security_revision_puts_every_county_table_under_its_policy_and_takes_it_off(migrated_app):
    upgrade(revision=ROW_SECURITY)
    secured = _secured_tables()
    assert set(secured) == set(_migration(ROW_SECURITY).COUNTY_TABLES)
    for enabled, forced, using, checked in secured.values():
        assert enabled and forced and using == checked and "oversight.county_ids" in using
    db.session.commit()
    downgrade(revision=COUNTY_SCOPE)
    assert _secured_tables() == {}
    db.session.commit()
    upgrade()  # at the head, every table the models give a county_id is under the policy
    assert set(_secured_tables()) == {table.name for table in db.metadata.sorted_tables if county_scoped(table)}
    db.session.commit()
