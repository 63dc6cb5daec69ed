"""Issuing, listing and cancelling assignments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..domain.duplicates import duplicate_period
from ..domain.vocabulary import OPEN_ASSIGNMENT_STATUSES, SUBJECT_KIND_FOR_SERVICE, AssignmentStatus, ServiceType, label_of
from ..extensions import db
from ..models import Assignment, Contract, Subject


class AssignmentError(ValueError):
    """Refused assignment change; the message is Chinese, for the user."""


class DuplicateAssignment(AssignmentError):
    """The subject already has an open assignment of this service on this contract."""

    def __init__(self, existing: Assignment, contract: Contract):
        self.existing = existing
        super().__init__(
            f"该服务对象在合同{contract.code}已有未完成的{label_of(ServiceType, existing.service_type)}任务"
            f" {existing.number}（截止 {existing.due_date.isoformat()}，{label_of(AssignmentStatus, existing.status)}），"
            "不能重复派发；请先完成或取消该任务")


def open_duplicate(contract_id: int, subject_id: int, service_type: str, due_date: date) -> Assignment | None:
    """The open assignment a new one of these would repeat (`domain.duplicates`), if any."""
    stmt = select(Assignment).where(
        Assignment.contract_id == contract_id, Assignment.subject_id == subject_id,
        Assignment.service_type == service_type, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
    period = duplicate_period(service_type, due_date)
    for assignment in db.session.execute(stmt.order_by(Assignment.due_date, Assignment.id)).scalars():
        if duplicate_period(service_type, assignment.due_date) == period:
            return assignment
    return None


def next_number(day: date) -> str:
    """The next free bureau number of the form RW20250301-000123."""
    prefix = f"RW{day:%Y%m%d}-"
    last = db.session.execute(
        select(func.max(Assignment.number)).where(Assignment.number.like(prefix + "%"))
    ).scalar_one_or_none()
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def check_assignable(contract: Contract, subject: Subject, service_type: str, due_date: date) -> None:
    """Raise AssignmentError when the contract, subject and service do not fit together."""
    if service_type not in contract.service_types:
        raise AssignmentError(f"合同{contract.code}不包含{ServiceType.labels().get(service_type, service_type)}服务")
    if SUBJECT_KIND_FOR_SERVICE[service_type] != subject.kind:
        raise AssignmentError("服务对象类型与服务不符（家计调查针对家庭，评估与照料针对个人）")
    if not contract.covers(due_date):
        raise AssignmentError("截止日期不在合同服务期内")


def issue_assignment(contract: Contract, subject: Subject, service_type: str, due_date: date,
                     number: str | None, today: date, note: str | None = None) -> Assignment:
    check_assignable(contract, subject, service_type, due_date)
    existing = open_duplicate(contract.id, subject.id, service_type, due_date)
    if existing is not None:
        raise DuplicateAssignment(existing, contract)
    number = number or next_number(today)
    if db.session.execute(select(Assignment.id).where(Assignment.number == number)).first():
        raise AssignmentError(f"任务编号{number}已存在")
    line = next(line for line in contract.service_lines if line.service_type == service_type)
    assignment = Assignment(
        number=number, contract_id=contract.id, subject_id=subject.id, service_type=service_type,
        due_date=due_date, status="assigned", note=note,
        required_visits=line.visits_per_month if service_type == "care_visit" else 1,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def cancel_assignment(assignment: Assignment) -> None:
    if assignment.status in ("completed", "cancelled"):
        raise AssignmentError("已完成或已取消的任务不能取消")
    assignment.status = "cancelled"
    db.session.flush()


NOT_CANCELLED = "not_cancelled"  # a status filter beside the statuses: what a contract's progress counts


@dataclass(frozen=True)
class AssignmentFilters:
    contract_id: int | None = None
    township: str | None = None
    service_type: str | None = None
    status: str | None = None
    due_month: str | None = None  # "YYYY-MM"
    number: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    late_on: date | None = None  # only those overdue on this day: marked so, or still open past due


def filtered_assignments(filters: AssignmentFilters) -> Select:
    """The assignment list query, newest due first, with each row's subject and contract loaded
    for display. Subjects are joined only to filter by township: every assignment has one, and
    the join would make the pager count every assignment's subject."""
    stmt = select(Assignment).options(selectinload(Assignment.subject), selectinload(Assignment.contract))
    if filters.contract_id:
        stmt = stmt.where(Assignment.contract_id == filters.contract_id)
    if filters.township:
        stmt = stmt.join(Subject, Assignment.subject_id == Subject.id).where(Subject.township == filters.township)
    if filters.service_type:
        stmt = stmt.where(Assignment.service_type == filters.service_type)
    if filters.status == NOT_CANCELLED:
        stmt = stmt.where(Assignment.status != "cancelled")
    elif filters.status:
        stmt = stmt.where(Assignment.status == filters.status)
    if filters.due_month:
        year, month = (int(part) for part in filters.due_month.split("-"))
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        stmt = stmt.where(Assignment.due_date >= start, Assignment.due_date < end)
    if filters.number:
        stmt = stmt.where(Assignment.number == filters.number)
    if filters.due_from:
        stmt = stmt.where(Assignment.due_date >= filters.due_from)
    if filters.due_to:
        stmt = stmt.where(Assignment.due_date <= filters.due_to)
    if filters.late_on:
        stmt = stmt.where((Assignment.status == "overdue")
                          | ((Assignment.status == "assigned") & (Assignment.due_date < filters.late_on)))
    return stmt.order_by(Assignment.due_date.desc(), Assignment.id.desc())
