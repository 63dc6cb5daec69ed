"""The daily and monthly upkeep the scheduler runs: overdue marks, reminders, recurring visits."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select

from ..domain.schedule import month_bounds
from ..extensions import db
from ..models import Assignment, Contract, Notification, ServiceLine, User
from ..models.base import utcnow
from .assignments import next_number
from .mailer import SmtpSettings, send_email

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
        users = db.session.execute(select(User).where(
            User.contractor_id == contractor_id, User.role == "contractor", User.is_active_account.is_(True))
        ).scalars().all()
        for user in users:
            key = f"due-soon:{today.isoformat()}"
            if db.session.execute(select(Notification.id).where(
                    Notification.user_id == user.id, Notification.dedup_key == key)).first():
                continue
            notice = Notification(
                user_id=user.id, dedup_key=key, title=f"{count} 项任务将在 {REMINDER_DAYS} 天内到期",
                body=f"截至 {horizon.isoformat()}，本机构有 {count} 项任务到期，请及时完成并上传服务记录。",
                link=f"/assignments/?status=assigned&due_month={today:%Y-%m}")
            db.session.add(notice)
            if smtp and user.email:
                send_email(smtp, user.email, notice.title, notice.body)
                notice.emailed_at = utcnow()
            made += 1
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
