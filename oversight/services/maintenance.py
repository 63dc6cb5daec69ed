"""The daily and monthly upkeep the scheduler runs: overdue marks, reminders, recurring visits."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select

from ..clock import utcnow
from ..domain.evaluation import EvaluationError
from ..domain.schedule import month_bounds
from ..extensions import db
from ..models import Assignment, Contract, Notification, RectificationNotice, ServiceLine, User
from .assignments import next_number
from .evaluations import compute_evaluation
from .mailer import SmtpSettings, send_email
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


def _notify(user: User, key: str, title: str, body: str, link: str, smtp: SmtpSettings | None) -> bool:
    """Add a notice unless the user already has one with this key; e-mail it when configured."""
    if db.session.execute(select(Notification.id).where(
            Notification.user_id == user.id, Notification.dedup_key == key)).first():
        return False
    notice = Notification(user_id=user.id, dedup_key=key, title=title, body=body, link=link)
    db.session.add(notice)
    if smtp and user.email:
        send_email(smtp, user.email, title, body)
        notice.emailed_at = utcnow()
    return True


def _contractor_users(contractor_id: int) -> list[User]:
    return db.session.execute(select(User).where(
        User.contractor_id == contractor_id, User.role == "contractor", User.is_active_account.is_(True))
    ).scalars().all()


def notify_overdue_notices(today: date, smtp: SmtpSettings | None = None) -> int:
    """Tell the contractor, once per notice, that a rectification notice passed its deadline."""
    open_notices = db.session.execute(select(RectificationNotice, Contract).join(
        Contract, Contract.id == RectificationNotice.contract_id).where(
        RectificationNotice.status != "closed", RectificationNotice.deadline < today)).all()
    overdue = 0
    for notice, contract in open_notices:
        if not notice_overdue(notice, today):
            continue
        overdue += 1
        for user in _contractor_users(contract.contractor_id):
            _notify(user, f"notice-overdue:{notice.id}", f"整改通知 #{notice.id} 已逾期",
                    f"整改期限为 {notice.deadline.isoformat()}，请尽快提交整改情况。",
                    f"/spot-checks/notices/{notice.id}", smtp)
    db.session.flush()
    return overdue


def remind_due(today: date, smtp: SmtpSettings | None = None) -> int:
    """Tell each contractor user what falls due within 7 days (once a day); returns notices made."""
    horizon = today + timedelta(days=REMINDER_DAYS)
    counts = db.session.execute(
        select(Contract.contractor_id, func.count())
        .join(Assignment, Assignment.contract_id == Contract.id)
        .where(Assignment.status == "assigned", Assignment.due_date >= today, Assignment.due_date <= horizon)
        .group_by(Contract.contractor_id)
    ).all()
    made = 0
    for contractor_id, count in counts:
        for user in _contractor_users(contractor_id):
            made += _notify(user, f"due-soon:{today.isoformat()}", f"{count} 项任务将在 {REMINDER_DAYS} 天内到期",
                            f"截至 {horizon.isoformat()}，本机构有 {count} 项任务到期，请及时完成并上传服务记录。",
                            f"/assignments/?status=assigned&due_month={today:%Y-%m}", smtp)
    db.session.flush()
    return made


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


def mark_all_read(user_id: int) -> None:
    for notice in db.session.execute(select(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))).scalars():
        notice.read_at = utcnow()
    db.session.flush()


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
        except EvaluationError:
            outcome["no_approved_quarter"] += 1
    return outcome
