"""The daily and monthly upkeep the scheduler runs: overdue marks, reminders, recurring visits."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select

from ..domain.evaluation import EvaluationError
from ..domain.schedule import month_bounds
from ..extensions import db
from ..models import Assignment, Contract, RectificationNotice, ServiceLine
from . import notifications
from .assignments import next_number
from .evaluations import EvaluationPublished, compute_evaluation
from .reviews import ReviewLocked
from .spot_checks import notice_overdue

REMINDER_DAYS = 7


def mark_overdue_assignments(today: date) -> int:
    """Open assignments past their due date become overdue; returns how many changed."""
    overdue = db.session.execute(
        select(Assignment).where(Assignment.status == "assigned", Assignment.due_date < today)
    ).scalars().all()
    for assignment in overdue:
        assignment.status = "overdue"
    db.session.flush()
    return len(overdue)


def notify_overdue_notices(today: date) -> int:
    """Tell the contractor and the issuer, once per notice, that a rectification notice passed
    its deadline unanswered; returns how many notices are overdue."""
    open_notices = db.session.execute(select(RectificationNotice).where(
        RectificationNotice.status != "closed", RectificationNotice.deadline < today)).scalars().all()
    overdue = [notice for notice in open_notices if notice_overdue(notice, today)]
    for notice in overdue:
        notifications.notice_overdue(notice)
    return len(overdue)


def remind_due(today: date) -> int:
    """Tell each contractor user what falls due within 7 days (once a day); returns notices made."""
    horizon = today + timedelta(days=REMINDER_DAYS)
    counts = db.session.execute(
        select(Contract.contractor_id, func.count())
        .join(Assignment, Assignment.contract_id == Contract.id)
        .where(Assignment.status == "assigned", Assignment.due_date >= today, Assignment.due_date <= horizon)
        .group_by(Contract.contractor_id)
    ).all()
    return sum(notifications.due_soon(contractor_id, count, today, horizon, REMINDER_DAYS)
               for contractor_id, count in counts)


def issue_care_visits(period_key: str, today: date) -> int:
    """Issue this month's care-visit assignment to every person cared for last month (idempotent)."""
    first, last = month_bounds(period_key)
    previous_first, _ = month_bounds(f"{(first - timedelta(days=1)):%Y-%m}")
    lines = db.session.execute(
        select(Contract, ServiceLine).join(ServiceLine, ServiceLine.contract_id == Contract.id)
        .where(ServiceLine.service_type == "care_visit", Contract.term_start <= last, Contract.term_end >= first)
    ).all()
    issued = 0
    prefix, start = next_number(today).rsplit("-", 1)
    sequence = int(start)
    for contract, line in lines:
        cared_for = set(db.session.execute(select(Assignment.subject_id).where(
            Assignment.contract_id == contract.id, Assignment.service_type == "care_visit",
            Assignment.status != "cancelled", Assignment.due_date >= previous_first, Assignment.due_date < first,
        )).scalars())
        already = set(db.session.execute(select(Assignment.subject_id).where(and_(
            Assignment.contract_id == contract.id, Assignment.service_type == "care_visit",
            Assignment.due_date >= first, Assignment.due_date <= last,
        ))).scalars())
        due = min(last, contract.term_end)
        for subject_id in sorted(cared_for - already):
            db.session.add(Assignment(
                number=f"{prefix}-{sequence:06d}", contract_id=contract.id, subject_id=subject_id,
                service_type="care_visit", due_date=due, status="assigned", required_visits=line.visits_per_month))
            sequence += 1
            issued += 1
    db.session.flush()
    return issued


def draft_annual_evaluations(year: int) -> dict:
    """Draft (or refresh) the year's evaluation of every contract whose term touches the year.

    A contract none of whose quarters is approved yet waits; the draft is refreshed by a manual
    run (or on the page) once the reviews are approved.
    """
    contracts = db.session.execute(select(Contract).where(
        Contract.term_start <= date(year, 12, 31), Contract.term_end >= date(year, 1, 1)).order_by(Contract.code)
    ).scalars().all()
    outcome = {"drafted": 0, "already_approved": 0, "no_approved_quarter": 0}
    for contract in contracts:
        try:
            compute_evaluation(contract, year)
            outcome["drafted"] += 1
        except ReviewLocked:
            outcome["already_approved"] += 1
        except EvaluationPublished:  # counted only when it happens
            outcome["kept_published"] = outcome.get("kept_published", 0) + 1
        except EvaluationError:
            outcome["no_approved_quarter"] += 1
    return outcome
