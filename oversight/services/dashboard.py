"""Figures for the dashboards: counts by status, what falls due, what is overdue, the contracts
under the two-quarters-under-80 warning, and for a contractor its workers' check results, its
deadlines and its comment windows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, literal, select, true, union_all
from sqlalchemy.orm import load_only, selectinload

from ..domain.periods import Quarter, quarter_of
from ..domain.standing import Standing, standing
from ..domain.vocabulary import AssignmentStatus
from ..extensions import db
from ..models import (
    AnnualEvaluation,
    Assignment,
    Callback,
    Complaint,
    Contract,
    QuarterlyReview,
    RectificationNotice,
    SamplingDraw,
)
from . import check_results
from .check_results import WorkerResults
from .notifications import unread_count
from .rectification import escalated_notices
from .reviews import current_reviews_query, total_of
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


def _counts_by_contract(scope: Select | None) -> dict[int, dict[str, int]]:
    """Assignments per contract and status (statuses without any left out).

    One indexed count per contract and status, in one statement: over years of assignments a
    GROUP BY that aggregates every row costs several times more (SQLite most of all).
    """
    statuses = union_all(*(select(literal(status).label("status")) for status in AssignmentStatus.codes())).subquery()
    count = (select(func.count()).select_from(Assignment)
             .where(Assignment.contract_id == Contract.id, Assignment.status == statuses.c.status)
             .scalar_subquery())
    stmt = select(Contract.id, statuses.c.status, count).join(statuses, true())  # every contract × status
    if scope is not None:
        stmt = stmt.where(Contract.id.in_(scope))
    counts: dict[int, dict[str, int]] = {}
    for contract_id, status, number in db.session.execute(stmt):
        if number:
            counts.setdefault(contract_id, {})[status] = number
    return counts


def status_counts(progress: list[ContractProgress]) -> dict[str, int]:
    """Assignments per status over the contracts of `progress` (`contract_progress` of the same scope)."""
    totals: dict[str, int] = {}
    for row in progress:
        for status, number in row.counts.items():
            totals[status] = totals.get(status, 0) + number
    return totals


def due_soon(scope: Select | None, today: date, days: int = 7, limit: int = 20) -> list[Assignment]:
    stmt = (select(Assignment)
            .where(Assignment.status == "assigned", Assignment.due_date >= today,
                   Assignment.due_date <= today + timedelta(days=days))
            .order_by(Assignment.due_date, Assignment.id).limit(limit).options(selectinload(Assignment.subject)))
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
    # Two counts added up, each an index range; one OR of both makes SQLite merge row-id sets.
    parts = [select(func.count()).select_from(Assignment).where(condition) for condition in (
        Assignment.status == "overdue", (Assignment.status == "assigned") & (Assignment.due_date < today))]
    if scope is not None:
        parts = [part.where(Assignment.contract_id.in_(scope)) for part in parts]
    return db.session.execute(select(parts[0].scalar_subquery() + parts[1].scalar_subquery())).scalar_one()


def contract_progress(scope: Select | None) -> list[ContractProgress]:
    counts = _counts_by_contract(scope)
    contracts_stmt = select(Contract).order_by(Contract.code).options(selectinload(Contract.contractor))
    if scope is not None:
        contracts_stmt = contracts_stmt.where(Contract.id.in_(scope))
    return [ContractProgress(c, counts.get(c.id, {})) for c in db.session.execute(contracts_stmt).scalars()]


# A contract stays on the dashboard's progress table for about a quarter after its term: its last
# quarter's review and its annual evaluation are then under way.
RECENTLY_ENDED_DAYS = 92


def recent_progress(progress: list[ContractProgress], today: date) -> list[ContractProgress]:
    """The rows of contracts in their term today, still to begin, or ended within
    `RECENTLY_ENDED_DAYS` (after years of contracts, the dashboard lists what is being worked on;
    the counts above it stay whole)."""
    since = today - timedelta(days=RECENTLY_ENDED_DAYS)
    return [row for row in progress if row.contract.term_end >= since]


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
        "unread": unread_count(user_id),
    }
    if staff:
        # Each count within `scope` (a county's contracts for a county's staff, issue 14).
        pending_stmt = pending_items().order_by(None)
        callbacks = select(func.count()).select_from(Callback).where(Callback.status == "pending")
        complaints = select(func.count()).select_from(Complaint).where(Complaint.status != "closed")
        escalated = escalated_notices().order_by(None)
        if scope is not None:
            pending_stmt = pending_stmt.where(SamplingDraw.contract_id.in_(scope))
            callbacks = callbacks.where(Callback.contract_id.in_(scope))
            complaints = complaints.where(Complaint.contract_id.in_(scope))
            escalated = escalated.where(RectificationNotice.contract_id.in_(scope))
        pending = pending_stmt.subquery()
        counts["pending_checks"], counts["my_checks"] = db.session.execute(select(
            func.count(), func.count().filter(pending.c.assigned_to_id == user_id)).select_from(pending)).one()
        counts["pending_callbacks"] = db.session.execute(callbacks).scalar_one()
        counts["open_complaints"] = db.session.execute(complaints).scalar_one()
        counts["escalated_notices"] = db.session.execute(select(func.count()).select_from(
            escalated.subquery())).scalar_one()
    return counts


@dataclass(frozen=True)
class StandingWarning:
    contract: Contract
    standing: Standing


def standing_warnings(scope: Select | None) -> list[StandingWarning]:
    """The contracts whose published results raise the two-quarters-under-80 warning (the same
    results as the contract page's: the newest published revision of each quarter)."""
    stmt = current_reviews_query(published_only=True).options(
        load_only(QuarterlyReview.contract_id, QuarterlyReview.quarter, QuarterlyReview.total_centi))
    if scope is not None:
        stmt = stmt.where(QuarterlyReview.contract_id.in_(scope))
    totals: dict[int, dict[Quarter, Decimal]] = {}
    for review in db.session.execute(stmt).scalars():
        totals.setdefault(review.contract_id, {})[Quarter.parse(review.quarter)] = total_of(review)
    standings = {contract_id: standing(found) for contract_id, found in totals.items()}
    warned = [contract_id for contract_id, found in standings.items() if found.below_threshold]
    if not warned:
        return []
    contracts = db.session.execute(select(Contract).where(Contract.id.in_(warned)).order_by(Contract.code)
                                   .options(selectinload(Contract.contractor))).scalars()
    return [StandingWarning(contract, standings[contract.id]) for contract in contracts]


@dataclass(frozen=True)
class ContractWorkers:
    contract: Contract
    results: WorkerResults


def worker_results(contracts: list[Contract], today: date) -> list[ContractWorkers]:
    """Each contract's check results by worker for the last finished quarter (spot checks of a
    quarter are drawn after it ends), where there are any: what a contractor retrains on. Only
    recorded checks count, so nothing tells which records were drawn before they are checked."""
    quarter = quarter_of(today).previous()
    # A contract out of its term all that quarter has no records, so no checks, of it.
    found = [ContractWorkers(contract, check_results.worker_results(contract.id, quarter)) for contract in contracts
             if contract.term_start <= quarter.end and contract.term_end >= quarter.start]
    return [row for row in found if row.results.by_worker]


def open_notices(scope: Select | None, today: date, limit: int = 20) -> list[RectificationNotice]:
    """Notices waiting for the contractor's answer, nearest deadline first (overdue ones too)."""
    stmt = (select(RectificationNotice).where(RectificationNotice.status == "open")
            .order_by(RectificationNotice.deadline, RectificationNotice.id).limit(limit)
            .options(selectinload(RectificationNotice.contract)))
    if scope is not None:
        stmt = stmt.where(RectificationNotice.contract_id.in_(scope))
    return db.session.execute(stmt).scalars().all()


@dataclass(frozen=True)
class CommentWindow:
    kind: str  # "review" or "evaluation"
    record: QuarterlyReview | AnnualEvaluation

    @property
    def deadline(self) -> date:
        return self.record.comment_deadline


def comment_windows(scope: Select | None, today: date) -> list[CommentWindow]:
    """Published reviews and evaluations whose comment window is still open on `today` (its last
    day included, as `review_steps.window_open`), the nearest deadline first."""
    windows = []
    for kind, model in (("review", QuarterlyReview), ("evaluation", AnnualEvaluation)):
        stmt = (select(model).where(model.status == "published", model.comment_deadline >= today)
                .options(selectinload(model.contract)))
        if scope is not None:
            stmt = stmt.where(model.contract_id.in_(scope))
        windows += [CommentWindow(kind, record) for record in db.session.execute(stmt).scalars()]
    return sorted(windows, key=lambda window: (window.deadline, window.kind, window.record.id))
