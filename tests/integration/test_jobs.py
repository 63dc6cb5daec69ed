"""Scheduled jobs: their effect at fixed dates, idempotence, catch-up, and exactly-once across processes."""
from datetime import date

from sqlalchemy import func, select

from oversight.extensions import db
from oversight.jobs import JOBS, JOBS_BY_NAME
from oversight.models import Assignment, JobRun, Notification
from oversight.services.jobs import catch_up, execute, run_now
from tests.process_support import flask, subprocess_env


def _run(name, today, trigger="schedule"):
    spec = JOBS_BY_NAME[name]
    return execute(spec, spec.cadence.due_period(today), trigger, today, {})


def _statuses():
    return dict(db.session.execute(select(Assignment.number, Assignment.status)).all())


def test_daily_job_marks_past_due_assignments_overdue_once(factory):
    contract = factory.contract()
    late = factory.assignment(contract, due_date=date(2026, 3, 1))
    on_time = factory.assignment(contract, due_date=date(2026, 3, 2))
    done = factory.assignment(contract, due_date=date(2026, 2, 1), status="completed")
    run = _run("mark_overdue", date(2026, 3, 2))
    assert run.outcome == "succeeded" and run.summary == {"assignments_overdue": 1, "notices_overdue": 0}
    db.session.expire_all()
    assert _statuses() == {late.number: "overdue", on_time.number: "assigned", done.number: "completed"}
    # Idempotent: the same period is not run again, and a manual re-run changes nothing.
    assert _run("mark_overdue", date(2026, 3, 2)) is None
    assert run_now(JOBS_BY_NAME["mark_overdue"], date(2026, 3, 2), {}).summary == {
        "assignments_overdue": 0, "notices_overdue": 0}


def test_reminders_go_to_contractor_users_once_a_day(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor)
    factory.assignment(contract, due_date=date(2026, 3, 6))
    factory.assignment(contract, due_date=date(2026, 3, 20))  # beyond 7 days
    user = factory.user("contractor", contractor)
    factory.user("supervisor")
    assert _run("remind_due", date(2026, 3, 2)).summary == {"notices": 1}
    notice = db.session.execute(select(Notification)).scalar_one()
    assert notice.user_id == user.id and notice.title.startswith("1 项任务")
    assert run_now(JOBS_BY_NAME["remind_due"], date(2026, 3, 2), {}).summary == {"notices": 0}
    assert _run("remind_due", date(2026, 3, 3)).summary == {"notices": 1}


def test_monthly_job_issues_next_care_visits_across_a_year_boundary(factory):
    contract = factory.contract(service_types=("care_visit",), term_start=date(2025, 1, 1), term_end=date(2026, 12, 31))
    people = [factory.subject("person") for _ in range(3)]
    for person in people[:2]:
        factory.assignment(contract, person, service_type="care_visit", due_date=date(2025, 12, 31))
    factory.assignment(contract, people[2], service_type="care_visit", due_date=date(2025, 12, 31), status="cancelled")
    run = _run("issue_care_visits", date(2026, 1, 1))
    assert run.period_key == "2026-01" and run.summary == {"assignments_issued": 2}
    january = db.session.execute(select(Assignment).where(Assignment.due_date == date(2026, 1, 31))).scalars().all()
    assert sorted(a.subject_id for a in january) == sorted(p.id for p in people[:2])
    assert {a.required_visits for a in january} == {2}
    assert run_now(JOBS_BY_NAME["issue_care_visits"], date(2026, 1, 1), {}).summary == {"assignments_issued": 0}


def test_catch_up_runs_each_missed_job_once_for_its_latest_period(factory):
    contract = factory.contract()
    factory.assignment(contract, due_date=date(2026, 2, 20))
    # The server was down from 27 February to 2 March.
    _run("mark_overdue", date(2026, 2, 27))
    runs = catch_up(JOBS, date(2026, 3, 2), {})
    assert sorted((r.job_name, r.period_key, r.trigger) for r in runs) == [
        ("anchor_audit_log", "2026-03-02", "catch_up"),
        ("annual_evaluations", "2025", "catch_up"), ("issue_care_visits", "2026-03", "catch_up"),
        ("mark_overdue", "2026-03-02", "catch_up"), ("quarter_checks", "2025Q4", "catch_up"),
        ("quarter_reviews", "2025Q4", "catch_up"), ("remind_due", "2026-03-02", "catch_up")]
    assert {r.outcome for r in runs} == {"succeeded"}
    assert catch_up(JOBS, date(2026, 3, 2), {}) == []


def test_quarter_end_draws_checks_and_drafts_reviews_once(factory):
    from oversight.models import QuarterlyReview, SamplingDraw

    contract = factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31))
    for day in range(1, 11):
        assignment = factory.assignment(contract, due_date=date(2026, 3, 31), status="completed")
        factory.record(assignment, service_date=date(2026, 3, day))
    checks = _run("quarter_checks", date(2026, 4, 1))
    assert checks.period_key == "2026Q1" and checks.summary == {"spot_check_draws": 1, "callback_draws": 1}
    reviews = _run("quarter_reviews", date(2026, 4, 1))
    assert reviews.summary == {"created": 1, "refreshed": 0, "kept": 0, "skipped": 0}
    assert run_now(JOBS_BY_NAME["quarter_checks"], date(2026, 4, 1), {}).summary == {
        "spot_check_draws": 0, "callback_draws": 0}
    assert run_now(JOBS_BY_NAME["quarter_reviews"], date(2026, 4, 1), {}).summary["created"] == 0
    assert db.session.execute(select(func.count()).select_from(SamplingDraw)).scalar_one() == 2
    review = db.session.execute(select(QuarterlyReview)).scalar_one()
    assert (review.quarter, review.status) == ("2026Q1", "draft")


def test_year_end_drafts_annual_evaluations(factory):
    from oversight.models import AnnualEvaluation, QuarterlyReview

    contract = factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31))
    for month in (2, 5, 8, 11):
        assignment = factory.assignment(contract, due_date=date(2026, month, 28), status="completed")
        factory.record(assignment, service_date=date(2026, month, 10))
    for quarter_start in (date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1)):
        _run("quarter_reviews", quarter_start)
    waiting = run_now(JOBS_BY_NAME["annual_evaluations"], date(2027, 1, 1), {})
    assert waiting.summary == {"drafted": 0, "already_approved": 0, "no_approved_quarter": 1}
    for review in db.session.execute(select(QuarterlyReview).where(QuarterlyReview.quarter < "2026Q4")).scalars():
        review.status, review.locked = "approved", True
    db.session.commit()
    run = _run("annual_evaluations", date(2027, 1, 1))
    assert run.outcome == "succeeded", run.error
    assert run.period_key == "2026"
    assert run.summary == {"drafted": 1, "already_approved": 0, "no_approved_quarter": 0}
    evaluation = db.session.execute(select(AnnualEvaluation)).scalar_one()
    assert (evaluation.contract_id, evaluation.year, evaluation.status) == (contract.id, 2026, "draft")


def test_a_failing_job_is_recorded_and_changes_nothing(factory, monkeypatch):
    contract = factory.contract()
    late = factory.assignment(contract, due_date=date(2026, 3, 1))
    from oversight.services import maintenance

    def crash(today):
        for assignment in db.session.execute(select(Assignment)).scalars():
            assignment.status = "overdue"
        db.session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(maintenance, "mark_overdue_assignments", crash)
    run = _run("mark_overdue", date(2026, 3, 2))
    assert run.outcome == "failed" and "boom" in run.error
    db.session.expire_all()
    assert _statuses()[late.number] == "assigned"


def test_two_processes_running_the_same_job_do_its_work_exactly_once(app, factory, tmp_path):
    contract = factory.contract()
    late = [factory.assignment(contract, due_date=date(2026, 3, 1)) for _ in range(20)]
    env = subprocess_env(app, tmp_path)
    processes = [flask(["run-job", "mark_overdue", "--date", "2026-03-02"], env) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    assert sum('"assignments_overdue": 20' in out for out in outputs) == 1
    assert sum("已运行过" in out for out in outputs) == 1
    runs = db.session.execute(select(func.count()).select_from(JobRun)).scalar_one()
    assert runs == 1
    db.session.expire_all()
    assert {_statuses()[a.number] for a in late} == {"overdue"}
