"""seed-demo: deterministic, valid identifiers, a realistic status mix, log-ins, a year of records,
checks, callbacks and reviews made through the services, an intact audit chain, pages that render.

Self-contained: each test builds its own app on a fresh database (a SQLite file, or a schema of
its own on the PostgreSQL server named by TEST_DATABASE_URL), independent of conftest.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SAWarning
from stdnum.cn import uscc

from oversight.clock import local_day
from oversight.domain import self_care
from oversight.domain.vocabulary import SUBJECT_KIND_FOR_SERVICE, AnomalyFlag, ServiceType
from oversight.domain.completion_log import CARE_ITEMS, INCOME_PARTS
from oversight.domain.identifiers import normalize_credit_code, normalize_id_number, normalize_mobile
from oversight.domain.periods import quarter_of
from oversight.extensions import db
from oversight.models import (AnnualEvaluation, Assignment, AuditEvent, Callback, Complaint, CompletionRecord,
                              Contract, Contractor, FieldWorker, LocalStandard, QuarterlyReview, RectificationNotice,
                              SamplingDraw, SpotCheck, Subject, UploadBatch, User)
from oversight.services.accounts import password_matches
from oversight.services.audit import verify_audit_log
from oversight.services.completion_places import TOWNSHIP_CENTRES
from oversight.services.draws import verify_stored_draw
from oversight.services.spot_checks import notice_overdue, pending_items
from seeds.demo import SCALES, DemoError, build_demo
from seeds.identities import org_code_check
from tests.conftest import Client
from tests.demo_support import Databases

TODAY = date(2026, 11, 25)
# Argon2 salts and wall-clock times differ on every run by design.
NOT_COMPARED = {"created_at", "updated_at", "password_hash"}


@pytest.fixture
def make_app(tmp_path):
    """make_app(name, tables=True) → an app on a database of its own, its uploads under tmp_path."""
    databases = Databases(tmp_path)
    yield databases.app
    databases.drop()


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory):
    """The small demo as of TODAY, built once for the tests that only read it: (app, summary)."""
    databases = Databases(tmp_path_factory.mktemp("demo"))
    app = databases.app("shared")
    with app.app_context():
        summary = build_demo("small", 7, TODAY)
        db.engine.dispose()
    yield app, summary
    databases.drop()


@pytest.fixture
def demo(shared_demo):
    """An app context on the shared demo (read it, change nothing); yields the summary."""
    app, summary = shared_demo
    with app.app_context():
        yield summary
        db.session.rollback()
        db.engine.dispose()


@pytest.fixture
def seeded(make_app):
    """seeded(name, scale, seed, today) → a context on a fresh database holding the demo; yields the summary."""

    @contextmanager
    def seed(name: str = "demo", scale: str = "small", seed: int = 7, today: date = TODAY):
        app = make_app(name)
        with app.app_context():
            try:
                yield build_demo(scale, seed, today)
            finally:
                db.session.rollback()
                db.engine.dispose()

    return seed


def dump() -> dict[str, list]:
    """Every row of every table, less the columns that are meant to differ."""
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name == AuditEvent.__tablename__:
            continue
        columns = [column for column in table.columns if column.name not in NOT_COMPARED]
        rows[table.name] = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    rows["audit"] = db.session.execute(select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
                                              AuditEvent.actor, AuditEvent.changes).order_by(AuditEvent.id)).all()
    return rows


def test_same_seed_gives_the_same_data(seeded):
    with seeded("first") as first_summary:
        first = dump()
    with seeded("second") as second_summary:
        second = dump()
    with seeded("other", seed=8):
        other = dump()
    assert first_summary == second_summary
    assert first == second
    assert first["subjects"] != other["subjects"]
    assert first_summary.counts["assignments"] == len(first["assignments"]) > 0
    for table in ("completion_records", "upload_batches", "sampling_draws", "draw_items", "spot_checks",
                  "rectification_notices", "callbacks", "callback_attempts", "quarterly_reviews"):
        assert first[table], table
        assert first[table] != other[table], table


def test_identifiers_are_valid(demo):
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
    assert {service for contract in contracts.values() for service in contract.service_types} == set(ServiceType)
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
            assert local_day(assignment.completed_at) < today
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


def test_status_mix_is_realistic(demo):
    assert_realistic_schedule(TODAY)
    statuses = set(db.session.execute(select(Assignment.status).distinct()).scalars())
    assert statuses == {"assigned", "completed", "overdue", "cancelled"}
    assert all(demo.counts[f"assignments_{status}"] > 0 for status in statuses)


def assert_reviews_follow_the_quarters(today: date) -> None:
    """Finished quarters are reviewed: the newest a draft, the earlier ones approved and locked."""
    newest = quarter_of(today).previous()
    reviews = db.session.execute(select(QuarterlyReview)).scalars().all()
    assert {review.quarter for review in reviews} >= {str(newest), str(newest.previous())}
    for review in reviews:
        if review.quarter == str(newest):
            assert review.status == "draft" and not review.locked
        else:
            assert review.status == "approved" and review.locked
            assert review.published_at < review.approved_at
            assert local_day(review.approved_at) < today


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1), date(2027, 1, 31),
                                   date(2028, 2, 29), date(2030, 12, 31)])
def test_schedule_and_activity_hold_on_any_day(seeded, today):
    with seeded(today=today):
        assert_realistic_schedule(today)
        years = set(db.session.execute(select(LocalStandard.year)).scalars())
        assert years == {today.year - 2, today.year - 1, today.year}
        assert_reviews_follow_the_quarters(today)
        assert db.session.execute(select(CompletionRecord.service_date).order_by(
            CompletionRecord.service_date.desc()).limit(1)).scalar() < today


def test_contractors_users_and_standards(demo):
    contractors = db.session.execute(select(Contractor)).scalars().all()
    with_contracts = [contractor for contractor in contractors if contractor.contracts]
    assert len(with_contracts) >= 2
    users = {user.username: user for user in db.session.execute(select(User)).scalars()}
    for contractor in with_contracts:
        assert any(user.role == "contractor" and user.contractor_id == contractor.id for user in users.values())
    assert {"admin", "supervisor", "auditor", "contractor"} <= {user.role for user in users.values()}
    for login in demo.users:
        user = users[login.username]
        assert len(login.password) >= 8 and password_matches(user, login.password)
        assert login.role == user.role
        assert login.contractor == (user.contractor.name if user.contractor else None)
        assert login.email == user.email and user.email.endswith(".example.cn") and "@" in user.email
    assert len({user.email for user in users.values()}) == len(users)
    # Each contractor's first worker has a field-worker account, given open assignments of its own contractor.
    field_users = [user for user in users.values() if user.role == "field_worker"]
    assert len(field_users) == len(with_contracts)
    for user in field_users:
        given = db.session.execute(select(Assignment).where(Assignment.worker_id == user.field_worker_id)).scalars().all()
        assert given and all(a.contract.contractor_id == user.contractor_id == user.field_worker.contractor_id
                             and a.status in ("assigned", "overdue") for a in given)
    for contract in db.session.execute(select(Contract)).scalars():
        assert contract.amount_fen > 0 and contract.performance_share_bp == 3000
        for line in contract.service_lines:
            assert line.annual_target > 0
            assert line.visits_per_month == (2 if line.service_type == "care_visit" else 1)
    standard = db.session.execute(select(LocalStandard).where(LocalStandard.year == TODAY.year)).scalar_one()
    assert standard.county == "赣县区" and standard.poverty_line_fen > 0
    assert standard.care_allowance_tier1_fen > standard.care_allowance_tier2_fen > standard.care_allowance_tier3_fen
    assert f"{TODAY.year}-10-01" in standard.holidays
    assert f"{TODAY.year}-02-14" in standard.working_days  # 调休 of the Spring Festival 2026
    versions = standard.versions
    assert [(v.number, v.effective_from) for v in versions] == [(1, date(TODAY.year, 1, 1)), (2, date(TODAY.year, 7, 1))]
    assert versions[1].poverty_line_fen > versions[0].poverty_line_fen > versions[0].poverty_line_rural_fen


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _km(here: tuple[float, float], there: tuple[float, float]) -> float:
    return 111 * ((here[0] - there[0]) ** 2 + (here[1] - there[1]) ** 2) ** 0.5


def test_every_completed_assignment_has_its_records(demo):
    records = defaultdict(list)
    for record in db.session.execute(select(CompletionRecord)).scalars():
        records[record.assignment_id].append(record)
    workers = dict(db.session.execute(select(FieldWorker.id, FieldWorker.contractor_id)).all())
    for assignment in db.session.execute(select(Assignment)).scalars():
        found = sorted(records.get(assignment.id, []), key=lambda record: record.service_date)
        days = [record.service_date for record in found]
        if assignment.status == "completed":
            assert len(found) == assignment.required_visits, assignment.number
            assert days[-1] == local_day(assignment.completed_at)
        else:  # a care visit may have had its first visit; nothing else has records
            assert len(found) < assignment.required_visits and assignment.status != "cancelled" or not found
        assert len(set(days)) == len(days)
        if assignment.service_type == "care_visit" and found:
            assert days[0].replace(day=1) == assignment.due_date.replace(day=1)
        for record in found:
            assert record.contract_id == assignment.contract_id
            assert record.service_type == assignment.service_type
            assert workers[record.worker_id] == assignment.contract.contractor_id
            assert record.batch_id is not None and record.excel_row >= 2


def test_records_carry_realistic_values_and_flags_for_real_reasons(demo):
    line = dict(db.session.execute(select(LocalStandard.year, LocalStandard.poverty_line_fen)).all())
    rows = db.session.execute(select(CompletionRecord, Subject.township)
                              .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
                              .join(Subject, Assignment.subject_id == Subject.id)).all()
    codes = Counter()
    consistent = surveys = 0
    for record, township in rows:
        flags = {flag["code"] for flag in record.anomaly_flags}
        assert flags <= set(AnomalyFlag) and record.flagged == bool(flags)
        codes.update(flags)
        start, end = _minutes(record.start_time), _minutes(record.end_time)
        assert end - start == record.duration_minutes
        assert 20 <= record.duration_minutes <= 120 or "short_visit" in flags
        assert 8 * 60 <= start and end <= 17 * 60 + 30 or "odd_hours" in flags or "overlap" in flags
        if record.longitude is not None:
            assert _km((record.longitude, record.latitude), TOWNSHIP_CENTRES[township]) < 12 \
                or "far_from_township" in flags
        if record.service_type == "household_survey":
            surveys += 1
            parts = [getattr(record, column.key) for column in INCOME_PARTS]
            if parts[0] is not None:
                assert sum(parts) == record.annual_income_fen
            eligible = record.per_capita_monthly_income_fen < line[record.service_date.year]
            consistent += record.survey_conclusion == ("符合" if eligible else "不符合")
        elif record.service_type == "self_care_assessment":
            met = {key: getattr(record, key) for key in self_care.ITEM_KEYS}
            assert self_care.assess(met).conclusion == record.conclusion
        else:
            assert set(record.care_items.split("、")) <= set(CARE_ITEMS)
            assert record.signed or "unsigned" in flags
    assert consistent >= 0.85 * surveys
    assert {"short_visit", "overlap", "unsigned"} <= set(codes)
    assert sum(record.flagged for record, _ in rows) < 0.1 * len(rows)


def test_uploads_are_batches_with_their_files(demo):
    folder = current_app.config["UPLOADS_DIR"]
    batches = db.session.execute(select(UploadBatch)).scalars().all()
    counts = Counter(db.session.execute(select(CompletionRecord.batch_id)).scalars())
    for batch in batches:
        assert batch.status == "accepted" and batch.rows_accepted == counts[batch.id] > 0
        assert batch.uploaded_by.role == "contractor" and batch.uploaded_by.contractor_id == \
            batch.contract.contractor_id
        with open(os.path.join(folder, batch.stored_path), "rb") as file:
            content = file.read()
        assert len(content) == batch.size_bytes and content.decode("utf-8-sig").startswith("任务编号,")
    imports = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "import", AuditEvent.object_type == "CompletionRecord")).scalars().all()
    assert {event.changes["batch"] for event in imports} == {batch.id for batch in batches}


def test_draws_verify_and_checks_follow_the_rules(demo):
    draws = db.session.execute(select(SamplingDraw)).scalars().all()
    assert {draw.purpose for draw in draws} == {"spot_check", "callback"}
    for draw in draws:
        assert verify_stored_draw(draw).matches, draw.id
    checks = db.session.execute(select(SpotCheck)).scalars().all()
    drawn = sum(len(draw.items) for draw in draws if draw.purpose == "spot_check")
    assert len(checks) >= 0.8 * drawn
    newest = str(quarter_of(TODAY).previous())
    waiting = db.session.execute(pending_items()).scalars().all()
    assert waiting and {item.draw.quarter for item in waiting} == {newest}
    waiting_calls = db.session.execute(select(Callback).where(Callback.status == "pending")).scalars().all()
    assert waiting_calls and {call.draw_item.draw.quarter for call in waiting_calls} == {newest}
    assert {check.checker.username for check in checks} == {"supervisor", "supervisor2"}
    assert 0 < sum(not check.passed for check in checks) < 0.2 * len(checks)
    notices = db.session.execute(select(RectificationNotice)).scalars().all()
    assert {notice.spot_check_id for notice in notices} == {check.id for check in checks if not check.passed}
    assert sum(notice_overdue(notice, TODAY) for notice in notices) >= 1
    assert "closed" in {notice.status for notice in notices}
    for notice in notices:
        # A first round is issued on the day of its check; a later one when the round before was not accepted.
        issued_on = notice.spot_check.checked_on if notice.previous is None else local_day(notice.previous.closed_at)
        assert local_day(notice.issued_at) == issued_on < notice.deadline
        if notice.responded_at:
            assert notice.issued_at < notice.responded_at < (notice.closed_at or datetime.max)
    calls = db.session.execute(select(Callback)).scalars().all()
    statuses = Counter(call.status for call in calls)
    assert statuses["answered"] > statuses["unreachable"] > 0
    answered = [call for call in calls if call.status == "answered"]
    assert sum(call.satisfaction >= 4 for call in answered) >= 0.7 * len(answered)
    assert all(attempt.attempted_at <= call.completed_at for call in calls if call.completed_at
               for attempt in call.attempts)
    assert db.session.execute(select(Complaint)).scalars().all()


def test_reviews_are_drafted_published_settled_and_locked(demo):
    assert_reviews_follow_the_quarters(TODAY)
    reviews = db.session.execute(select(QuarterlyReview)).scalars().all()
    disputed = [review for review in reviews if review.contractor_position == "disagree"]
    assert len(disputed) == 1 and disputed[0].settlement and disputed[0].settled_by.role == "admin"
    assert any(review.contractor_position == "agree" for review in reviews)
    assert any(review.manual_items for review in reviews)
    assert not db.session.execute(select(AnnualEvaluation)).first()  # no whole year approved yet


def test_a_year_whose_quarters_are_all_approved_is_evaluated(seeded):
    with seeded(today=date(2026, 5, 20)):
        evaluations = db.session.execute(select(AnnualEvaluation)).scalars().all()
        assert evaluations and {evaluation.year for evaluation in evaluations} == {2025}
        for evaluation in evaluations:
            assert evaluation.status == "draft" and not evaluation.figures.missing_quarters


def test_audit_chain_verifies_and_names_who_did_what(demo):
    checked, broken = verify_audit_log()
    assert broken is None and checked > 0
    bulk = dict(db.session.execute(select(AuditEvent.object_type, AuditEvent.changes)
                                   .where(AuditEvent.action == "seed")).all())
    assert bulk["Subject"]["rows"] == demo.counts["subjects_household"] + demo.counts["subjects_person"]
    # The re-assessments of the demo's condition reports are issued by the service, one by one.
    reassessments = db.session.execute(select(func.count()).select_from(Assignment)
                                       .where(Assignment.reason == "reassessment")).scalar_one()
    assert bulk["Assignment"]["rows"] + reassessments == demo.counts["assignments"] and reassessments == 2
    users = {user.id: user for user in db.session.execute(select(User)).scalars()}
    actors = Counter()
    for event in db.session.execute(select(AuditEvent)).scalars():
        if event.actor == "seed-demo":
            assert event.user_id is None
        else:
            assert users[event.user_id].username == event.actor
        actors[event.actor] += 1
    assert {"seed-demo", "supervisor", "supervisor2", "admin", "tongxin", "renhe"} <= set(actors)
    spot_checks = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "SpotCheck",
                                                              AuditEvent.action == "create")).scalars().all()
    assert {event.actor for event in spot_checks} == {"supervisor", "supervisor2"}
    assert all(event.occurred_at.date() <= TODAY for event in spot_checks)


def test_demo_pages_render_for_supervisor_and_contractor(make_app):
    app = make_app("pages")
    with app.app_context():
        build_demo("small", 7, TODAY)
        draw = db.session.execute(select(SamplingDraw.id).order_by(SamplingDraw.id)).scalars().first()
        newest = db.session.execute(select(QuarterlyReview.id).where(QuarterlyReview.status == "draft")).scalars().first()
        own = db.session.execute(
            select(QuarterlyReview.id).join(Contract).join(User, User.contractor_id == Contract.contractor_id)
            .where(User.username == "renhe", QuarterlyReview.status == "approved")).scalars().first()
        batch = db.session.execute(select(UploadBatch.id).order_by(UploadBatch.id)).scalars().first()
        db.engine.dispose()
    supervisor = Client(app)
    assert supervisor.login("supervisor", "demo-supervisor").status_code == 302
    for url in ("/dashboard", f"/draws/{draw}", f"/reviews/{newest}", f"/reviews/{own}", "/records/",
                "/records/?flagged_only=1", f"/uploads/batches/{batch}", "/spot-checks/notices/", "/callbacks/"):
        assert supervisor.get(url).status_code == 200, url
    contractor = Client(app)
    assert contractor.login("renhe", "demo-renhe").status_code == 302
    for url in ("/dashboard", f"/reviews/{own}", "/spot-checks/notices/"):
        assert contractor.get(url).status_code == 200, url
    records = contractor.get("/records/")
    assert records.status_code == 200 and "RH0" in records.get_data(as_text=True)
    assert "TX0" not in records.get_data(as_text=True)
    assert contractor.get(f"/draws/{draw}").status_code == 403
    assert contractor.get(f"/reviews/{newest}").status_code == 404


def test_cli_prints_json_refuses_a_second_run_and_resets(make_app):
    app = make_app("cli")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--scale", "small", "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert set(output) == {"contracts", "users"}
    assert len(output["contracts"]) >= 2
    for contract in output["contracts"]:
        assert set(contract) == {"code", "contractor", "service_types"}
        assert set(contract["service_types"]) <= set(ServiceType)
    for user in output["users"]:
        assert set(user) == {"username", "password", "role", "contractor", "email", "area"}
        assert (user["contractor"] is None) == (user["role"] not in ("contractor", "field_worker"))
        assert user["area"] == "赣县区"

    again = runner.invoke(args=["seed-demo", "--scale", "small"])
    assert again.exit_code != 0 and "--reset" in again.output

    reset = runner.invoke(args=["seed-demo", "--scale", "small", "--json", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout) == output
    with app.app_context():
        assert verify_audit_log()[1] is None
        first = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
        assert first.action == "reset" and first.changes["deleted"]["completion_records"] > 0
        db.engine.dispose()


def test_reset_in_the_same_session_rebuilds_the_same_data(seeded):
    with seeded() as first:
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


def test_text_summary_lists_the_log_ins_and_the_activity(make_app):
    result = make_app("text").test_cli_runner().invoke(args=["seed-demo", "--scale", "small", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "演示账号" in result.stdout and "demo-admin" in result.stdout and "赣县区" in result.stdout
    for words in ("服务记录", "抽查复检", "整改通知", "电话回访", "季度考核"):
        assert re.search(words + r"[^\n]*\d", result.stdout), words


def test_refuses_a_database_without_tables(make_app):
    with make_app("empty", tables=False).app_context():
        with pytest.raises(DemoError, match="init-db"):
            build_demo("small", 1, TODAY)
        db.engine.dispose()


@pytest.mark.parametrize("scale", ["small", "county"])
def test_each_scale_seeds_the_subjects_townships_and_contractors_of_its_spec(seeded, scale):
    """How long each scale takes is measured by bench/seed_demo.py; here, what it makes."""
    spec = SCALES[scale]
    with seeded(scale, scale=scale) as summary:
        subjects = db.session.execute(select(Subject.kind, Subject.township)).all()
        assert Counter(kind for kind, _ in subjects) == {"household": spec.households, "person": spec.persons}
        assert (summary.counts["subjects_household"], summary.counts["subjects_person"]) == (
            spec.households, spec.persons)
        assert len({township for _, township in subjects}) == spec.townships
        contractors = db.session.execute(select(Contractor)).scalars().all()
        assert len(contractors) == summary.counts["contractors"] == spec.contractors
        for contractor in contractors:
            assert spec.workers[0] <= len(contractor.workers) <= spec.workers[1]
        assert summary.counts["completion_records"] > summary.counts["spot_checks"] > 0


def test_answered_callbacks_name_who_answered_and_the_evidence_raises_open_flags(demo):
    from oversight.models import EvidenceFlag, VerificationImport

    answered = db.session.execute(select(Callback).where(Callback.status == "answered")).scalars().all()
    assert answered and all(callback.answered_by in ("self", "family", "other") for callback in answered)
    assert {callback.answered_by for callback in answered} >= {"self", "family"}
    imports = db.session.execute(select(VerificationImport).order_by(VerificationImport.id)).scalars().all()
    assert [(entry.kind, entry.status) for entry in imports] == [("economic", "accepted"), ("death", "accepted")]
    assert all(entry.uploaded_by.username == "supervisor" and entry.rows_matched > 0 for entry in imports)
    flags = db.session.execute(select(EvidenceFlag)).scalars().all()
    kinds = {flag.kind for flag in flags}
    assert {"income_underreported", "assets_underreported", "registered_elsewhere", "service_after_death"} <= kinds
    assert all(flag.status == "open" for flag in flags)
    for flag in flags:
        if flag.kind == "service_after_death":
            assert flag.record.service_date.isoformat() > flag.details["died_on"]


def test_demo_users_get_their_notifications_by_email_when_smtp_is_configured(make_app):
    """Every demo log-in has an address, so with a mail server set the demo's own events (uploads,
    spot-check results, published reviews …) queue e-mails to them instead of 未设置邮箱."""
    from oversight.domain.vocabulary import EmailStatus
    from oversight.models import Notification

    app = make_app("mail", SMTP_HOST="127.0.0.1", SMTP_PORT=2525)
    with app.app_context():
        try:
            build_demo("small", 7, TODAY)
            rows = db.session.execute(select(Notification.user_id, Notification.kind, Notification.email_status,
                                             Notification.email_error)).all()
            users = {user.id: user for user in db.session.execute(select(User)).scalars()}
            assert rows
            assert {status for _, _, status, _ in rows} == {EmailStatus.PENDING}, {why for *_, why in rows}
            told = {users[user_id].role for user_id, *_ in rows}
            assert {"contractor", "supervisor"} <= told
            assert len({kind for _, kind, _, _ in rows}) >= 3
        finally:
            db.session.rollback()
            db.engine.dispose()
