"""seed-demo: deterministic, valid identifiers, a realistic status mix, log-ins and an intact audit chain.

Self-contained: each test builds its own app on a fresh SQLite file, independent of conftest.
"""
from __future__ import annotations

import json
import os
import re
import time
import warnings
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SAWarning
from stdnum.cn import uscc

from oversight import create_app
from oversight.domain.catalog import SERVICE_TYPES, SUBJECT_KIND_FOR_SERVICE
from oversight.domain.identifiers import normalize_credit_code, normalize_id_number, normalize_mobile
from oversight.extensions import db
from oversight.models import (Assignment, AuditEvent, Contract, Contractor, FieldWorker, LocalStandard,
                              Subject, User)
from oversight.services.accounts import password_matches
from oversight.services.audit import verify_audit_log
from seeds.demo import DemoError, build_demo
from seeds.identities import org_code_check

TODAY = date(2026, 11, 25)
CHEAP_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
# Argon2 salts and wall-clock times differ on every run by design.
NOT_COMPARED = {"created_at", "updated_at", "password_hash"}


def make_app(tmp_path, name: str, *, tables: bool = True):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/{name}.sqlite", "TESTING": True,
                      "SECRET_KEY": "seed-demo-test", "PASSWORD_HASH_PARAMS": CHEAP_HASHING})
    if tables:
        with app.app_context():
            db.create_all()
    return app


@contextmanager
def seeded(tmp_path, name: str = "demo", scale: str = "small", seed: int = 7, today: date = TODAY):
    """An app context on a fresh database holding the demo; yields the summary."""
    app = make_app(tmp_path, name)
    with app.app_context():
        try:
            yield build_demo(scale, seed, today)
        finally:
            db.session.rollback()
            db.engine.dispose()


def dump() -> dict[str, list]:
    """Every row of every table, less the columns that are meant to differ."""
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name == AuditEvent.__tablename__:
            continue
        columns = [column for column in table.columns if column.name not in NOT_COMPARED]
        rows[table.name] = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    rows["audit"] = db.session.execute(select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
                                              AuditEvent.changes).order_by(AuditEvent.id)).all()
    return rows


def test_same_seed_gives_the_same_data(tmp_path):
    with seeded(tmp_path, "first") as first_summary:
        first = dump()
    with seeded(tmp_path, "second") as second_summary:
        second = dump()
    with seeded(tmp_path, "other", seed=8):
        other = dump()
    assert first_summary == second_summary
    assert first == second
    assert first["subjects"] != other["subjects"]
    assert first_summary.counts["assignments"] == len(first["assignments"]) > 0


def test_identifiers_are_valid(tmp_path):
    with seeded(tmp_path):
        subjects = db.session.execute(select(Subject)).scalars().all()
        for subject in subjects:
            assert normalize_id_number(subject.id_number, today=TODAY) == subject.id_number
            assert subject.phone is None or normalize_mobile(subject.phone) == subject.phone
        assert {"360704", "360721"} <= {subject.id_number[:6] for subject in subjects}
        assert any(subject.phone is None for subject in subjects)
        persons = [subject for subject in subjects if subject.kind == "person"]
        assert {subject.category for subject in persons} == {"特困"}
        elderly = [p for p in persons if TODAY.year - int(p.id_number[6:10]) >= 60]
        assert len(elderly) >= 0.6 * len(persons)
        households = [subject for subject in subjects if subject.kind == "household"]
        assert {subject.category for subject in households} <= {"低保", "低保边缘", "支出型困难"}
        assert all(1 <= subject.household_size <= 20 for subject in households)

        for contractor in db.session.execute(select(Contractor)).scalars():
            assert normalize_credit_code(contractor.credit_code) == contractor.credit_code
            assert uscc.is_valid(contractor.credit_code)
            assert contractor.credit_code[16] == org_code_check(contractor.credit_code[8:16])
            assert normalize_mobile(contractor.contact_phone)
            assert 6 <= len(contractor.workers) <= 15
        for worker in db.session.execute(select(FieldWorker)).scalars():
            assert re.fullmatch(r"[A-Z]{2}\d{3}", worker.worker_no)
            assert normalize_mobile(worker.phone)


def assert_realistic_schedule(today: date) -> None:
    contracts = {contract.id: contract for contract in db.session.execute(select(Contract)).scalars()}
    assert all(contract.covers(today) for contract in contracts.values())
    assert {service for contract in contracts.values() for service in contract.service_types} == set(SERVICE_TYPES)
    rows = db.session.execute(select(Assignment, Subject.kind).join(Subject)).all()
    numbers = [assignment.number for assignment, _ in rows]
    assert len(numbers) == len(set(numbers))
    for assignment, kind in rows:
        assert re.fullmatch(r"RW\d{8}-\d{6}", assignment.number)
        assert assignment.number[2:10] <= f"{today:%Y%m%d}"
        assert SUBJECT_KIND_FOR_SERVICE[assignment.service_type] == kind
        assert contracts[assignment.contract_id].covers(assignment.due_date)
        assert assignment.required_visits == (2 if assignment.service_type == "care_visit" else 1)
        if assignment.status == "completed":
            assert assignment.completed_at.date() < today
        else:
            assert assignment.completed_at is None
        if assignment.status == "overdue":
            assert assignment.due_date < today
        if assignment.status == "assigned":
            assert assignment.due_date >= today
    past = [assignment for assignment, _ in rows if assignment.due_date < today and assignment.status != "cancelled"]
    assert sum(assignment.status == "completed" for assignment in past) >= 0.8 * len(past)
    assert any(assignment.due_date >= today for assignment, _ in rows)
    survey_months = {a.due_date.strftime("%Y-%m") for a, _ in rows if a.service_type == "household_survey"}
    assert len(survey_months) == 12


def test_status_mix_is_realistic(tmp_path):
    with seeded(tmp_path) as summary:
        assert_realistic_schedule(TODAY)
        statuses = set(db.session.execute(select(Assignment.status).distinct()).scalars())
        assert statuses == {"assigned", "completed", "overdue", "cancelled"}
        assert all(summary.counts[f"assignments_{status}"] > 0 for status in statuses)


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1), date(2027, 1, 31),
                                   date(2028, 2, 29), date(2030, 12, 31)])
def test_schedule_holds_on_any_day(tmp_path, today):
    with seeded(tmp_path, today=today):
        assert_realistic_schedule(today)
        years = set(db.session.execute(select(LocalStandard.year)).scalars())
        assert years == {today.year - 1, today.year}


def test_contractors_users_and_standards(tmp_path):
    with seeded(tmp_path) as summary:
        contractors = db.session.execute(select(Contractor)).scalars().all()
        with_contracts = [contractor for contractor in contractors if contractor.contracts]
        assert len(with_contracts) >= 2
        users = {user.username: user for user in db.session.execute(select(User)).scalars()}
        for contractor in with_contracts:
            assert any(user.role == "contractor" and user.contractor_id == contractor.id for user in users.values())
        assert {"admin", "supervisor", "auditor", "contractor"} <= {user.role for user in users.values()}
        for login in summary.users:
            user = users[login.username]
            assert len(login.password) >= 8 and password_matches(user, login.password)
            assert login.role == user.role
            assert login.contractor == (user.contractor.name if user.contractor else None)
        for contract in db.session.execute(select(Contract)).scalars():
            assert contract.amount_fen > 0 and contract.performance_share_bp == 3000
            for line in contract.service_lines:
                assert line.annual_target > 0
                assert line.visits_per_month == (2 if line.service_type == "care_visit" else 1)
        standard = db.session.execute(select(LocalStandard).where(LocalStandard.year == TODAY.year)).scalar_one()
        assert standard.county == "赣县区" and standard.poverty_line_fen > 0
        assert standard.care_allowance_tier1_fen > standard.care_allowance_tier2_fen > standard.care_allowance_tier3_fen
        assert f"{TODAY.year}-10-01" in standard.holidays


def test_audit_chain_verifies_and_records_bulk_steps(tmp_path):
    with seeded(tmp_path) as summary:
        checked, broken = verify_audit_log()
        assert broken is None and checked > 0
        bulk = dict(db.session.execute(select(AuditEvent.object_type, AuditEvent.changes)
                                       .where(AuditEvent.action == "seed")).all())
        assert bulk["Subject"]["rows"] == summary.counts["subjects_household"] + summary.counts["subjects_person"]
        assert bulk["Assignment"]["rows"] == summary.counts["assignments"]
        assert {event.actor for event in db.session.execute(select(AuditEvent)).scalars()} == {"seed-demo"}


def test_cli_prints_json_refuses_a_second_run_and_resets(tmp_path):
    app = make_app(tmp_path, "cli")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--scale", "small", "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert set(output) == {"contracts", "users"}
    assert len(output["contracts"]) >= 2
    for contract in output["contracts"]:
        assert set(contract) == {"code", "contractor", "service_types"}
        assert set(contract["service_types"]) <= set(SERVICE_TYPES)
    for user in output["users"]:
        assert set(user) == {"username", "password", "role", "contractor"}
        assert (user["contractor"] is None) == (user["role"] != "contractor")

    again = runner.invoke(args=["seed-demo", "--scale", "small"])
    assert again.exit_code != 0 and "--reset" in again.output

    reset = runner.invoke(args=["seed-demo", "--scale", "small", "--json", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout) == output
    with app.app_context():
        assert verify_audit_log()[1] is None
        first = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
        assert first.action == "reset" and first.changes["deleted"]["assignments"] > 0
        db.engine.dispose()


def test_reset_in_the_same_session_rebuilds_the_same_data(tmp_path):
    with seeded(tmp_path) as first:
        before = dump()
        loaded = db.session.execute(select(Contract)).scalars().all()  # held, as a caller's objects would be
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)
            again = build_demo("small", 7, TODAY, reset=True)
        assert loaded
        after = dump()
    assert again == first
    assert after.pop("audit")[0][0] == "reset"
    before.pop("audit")
    assert after == before


def test_text_summary_lists_the_log_ins(tmp_path):
    result = make_app(tmp_path, "text").test_cli_runner().invoke(args=["seed-demo", "--scale", "small", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "演示账号" in result.stdout and "demo-admin" in result.stdout and "赣县区" in result.stdout


def test_refuses_a_database_without_tables(tmp_path):
    with make_app(tmp_path, "empty", tables=False).app_context():
        with pytest.raises(DemoError, match="init-db"):
            build_demo("small", 1, TODAY)
        db.engine.dispose()


@pytest.mark.parametrize("scale", ["small", "county", "city"])
def test_seeding_time_is_reported(tmp_path, scale, capsys):
    """Prints how long each scale takes; the city scale only with SEED_DEMO_CITY=1 (it takes a while)."""
    if scale == "city" and not os.environ.get("SEED_DEMO_CITY"):
        pytest.skip("set SEED_DEMO_CITY=1 to time the city scale")
    started = time.perf_counter()
    with seeded(tmp_path, scale, scale=scale) as summary:
        seconds = time.perf_counter() - started
        with capsys.disabled():
            print(f"\nseed-demo {scale}: {seconds:.1f} s, {summary.counts['subjects_household']} households, "
                  f"{summary.counts['subjects_person']} persons, {summary.counts['assignments']} assignments")
