"""Figures for the dashboards: counts by status, what falls due, what is overdue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import Assignment, Callback, Complaint, Contract, Notification, RectificationNotice
from .spot_checks import notice_overdue, pending_items


@dataclass(frozen=True)
class ContractProgress:
    contract: Contract
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(count for status, count in self.counts.items() if status != "cancelled")

    @property
    def completion_rate(self) -> float | None:
        return self.counts.get("completed", 0) / self.total if self.total else None


def status_counts(scope: Select | None) -> dict[str, int]:
    stmt = select(Assignment.status, func.count()).group_by(Assignment.status)
    if scope is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope))
    return dict(db.session.execute(stmt).all())


def due_soon(scope: Select | None, today: date, days: int = 7, limit: int = 20) -> list[Assignment]:
    stmt = (select(Assignment)
            .where(Assignment.status == "assigned", Assignment.due_date >= today,
                   Assignment.due_date <= today + timedelta(days=days))
            .order_by(Assignment.due_date, Assignment.id).limit(limit))
    if scope is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope))
    return db.session.execute(stmt).scalars().all()


def count_due_soon(scope: Select | None, today: date, days: int = 7) -> int:
    stmt = select(func.count()).select_from(Assignment).where(
        Assignment.status == "assigned", Assignment.due_date >= today, Assignment.due_date <= today + timedelta(days=days))
    if scope is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope))
    return db.session.execute(stmt).scalar_one()


def overdue_count(scope: Select | None, today: date) -> int:
    """Overdue: marked so, or still open past its due date (before the daily job marks it)."""
    stmt = select(func.count()).select_from(Assignment).where(
        (Assignment.status == "overdue") | ((Assignment.status == "assigned") & (Assignment.due_date < today)))
    if scope is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope))
    return db.session.execute(stmt).scalar_one()


def contract_progress(scope: Select | None) -> list[ContractProgress]:
    stmt = select(Assignment.contract_id, Assignment.status, func.count()).group_by(
        Assignment.contract_id, Assignment.status)
    contracts_stmt = select(Contract).order_by(Contract.code)
    if scope is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope))
        contracts_stmt = contracts_stmt.where(Contract.id.in_(scope))
    counts: dict[int, dict[str, int]] = {}
    for contract_id, status, count in db.session.execute(stmt):
        counts.setdefault(contract_id, {})[status] = count
    return [ContractProgress(c, counts.get(c.id, {})) for c in db.session.execute(contracts_stmt).scalars()]


def _count(stmt) -> int:
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def _notices(scope: Select | None) -> list[RectificationNotice]:
    stmt = select(RectificationNotice).where(RectificationNotice.status != "closed")
    if scope is not None:
        stmt = stmt.where(RectificationNotice.contract_id.in_(scope))
    return db.session.execute(stmt).scalars().all()


def oversight_counts(user_id: int, scope: Select | None, today: date, *, staff: bool) -> dict[str, int]:
    """The work waiting on the bureau (staff) or on the contractor, for the dashboard."""
    notices = _notices(scope)
    counts = {
        "open_notices": len(notices),
        "overdue_notices": sum(notice_overdue(n, today) for n in notices),
        "unread": db.session.execute(select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one(),
    }
    if staff:
        counts["my_checks"] = _count(pending_items(user_id))
        counts["pending_checks"] = _count(pending_items())
        counts["pending_callbacks"] = db.session.execute(select(func.count()).select_from(Callback).where(
            Callback.status == "pending")).scalar_one()
        counts["open_complaints"] = db.session.execute(select(func.count()).select_from(Complaint).where(
            Complaint.status != "closed")).scalar_one()
    return counts
