"""Re-assessment on a change of condition (issue 14): reports (情况变化报告) that issue a
re-assessment due in 10 working days, the person's care-tier history with the stated dates its
changes take effect from, and the KPI "re-assessed on time" (按时复评率).

`tier_in_force(subject_id, day)` is the tier a person's allowance follows on a day (the finance
export reads it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..clock import local_day
from ..domain import reassessment as rule
from ..domain.periods import Quarter
from ..domain.reassessment import Assessed, EffectiveDateRefused, TierChange
from ..domain.scoring import Evidence
from ..domain.vocabulary import (
    OPEN_ASSIGNMENT_STATUSES,
    AssignmentReason,
    ConditionReporter,
    ServiceType,
    SubjectKind,
)
from ..extensions import db
from ..models import Assignment, CompletionRecord, ConditionReport, Contract, Subject, TierEffectiveDate, User
from . import notifications
from .assignments import AssignmentError, check_assignable, next_number
from .calendar import add_working_days

KPI_KEY = "reassessment_on_time"
SELF_CARE = ServiceType.SELF_CARE_ASSESSMENT
DESCRIPTION_MAX = 1000


class ReportRefused(ValueError):
    """A condition report that cannot be recorded; the message is Chinese, for the user."""


# --- reports ------------------------------------------------------------------------------------


def serving_contracts(subject: Subject, day: date, contractor_id: int | None = None) -> list[Contract]:
    """The contracts that serve the person on `day`: a self-care assessment line, a term that
    covers the day, and an assignment (not cancelled) of the person; `contractor_id`: only its own."""
    served = select(Assignment.contract_id).where(Assignment.subject_id == subject.id,
                                                  Assignment.status != "cancelled")
    stmt = (select(Contract).where(Contract.id.in_(served), Contract.term_start <= day, Contract.term_end >= day)
            .order_by(Contract.code))
    if contractor_id is not None:
        stmt = stmt.where(Contract.contractor_id == contractor_id)
    return [contract for contract in db.session.execute(stmt).scalars() if SELF_CARE in contract.service_types]


def open_reassessment(contract_id: int, subject_id: int) -> Assignment | None:
    """The person's re-assessment on the contract still waiting for its record, if any."""
    return db.session.execute(
        select(Assignment).where(Assignment.contract_id == contract_id, Assignment.subject_id == subject_id,
                                 Assignment.service_type == SELF_CARE,
                                 Assignment.reason == AssignmentReason.REASSESSMENT,
                                 Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
        .order_by(Assignment.id).limit(1)).scalar_one_or_none()


def reassessment_due(county_id: int, reported_on: date) -> date:
    """The due date of the re-assessment of a change reported on `reported_on` (the county's calendar)."""
    return add_working_days(county_id, reported_on, rule.REASSESSMENT_WORKING_DAYS)


def report_change(subject: Subject, contract: Contract, *, reported_on: date, reporter_kind: str,
                  reporter_name: str | None, description: str, user: User | None, today: date) -> ConditionReport:
    """Record a reported change of condition and issue its re-assessment (self-care assessment on
    `contract`, due in 10 working days); while one is open for the person on the contract, the
    report joins it instead. The contractor is told of a new re-assessment. Caller commits."""
    description = (description or "").strip()
    if subject.kind != SubjectKind.PERSON:
        raise ReportRefused("情况变化报告只针对个人（特困人员等）")
    if not description:
        raise ReportRefused("请写明情况变化的内容")
    if len(description) > DESCRIPTION_MAX:
        raise ReportRefused(f"情况变化内容最多{DESCRIPTION_MAX}字")
    if reporter_kind not in ConditionReporter.codes():
        raise ReportRefused("请选择报告人类别")
    if reported_on > today:
        raise ReportRefused("报告日期不能晚于今天")
    if contract.id not in {c.id for c in serving_contracts(subject, reported_on)}:
        raise ReportRefused(f"合同{contract.code}在报告日不为该服务对象提供自理能力评估服务")
    assignment = open_reassessment(contract.id, subject.id)
    issued = assignment is None
    if issued:
        due = reassessment_due(contract.county_id, reported_on)
        try:
            check_assignable(contract, subject, SELF_CARE, due)
        except AssignmentError as error:
            raise ReportRefused(f"复评截止日期 {due.isoformat()}：{error}") from None
        assignment = Assignment(number=next_number(today), contract_id=contract.id, county_id=contract.county_id,
                                subject_id=subject.id,
                                service_type=SELF_CARE, due_date=due, status="assigned", required_visits=1,
                                reason=AssignmentReason.REASSESSMENT,
                                note=f"情况变化复评（{reported_on.isoformat()}报告）")
        db.session.add(assignment)
        db.session.flush()
    report = ConditionReport(subject_id=subject.id, contract_id=contract.id, county_id=contract.county_id,
                             assignment_id=assignment.id,
                             reported_on=reported_on, reporter_kind=reporter_kind,
                             reporter_name=(reporter_name or "").strip() or None, description=description,
                             entered_by_id=user.id if user is not None else None)
    db.session.add(report)
    db.session.flush()
    if issued:
        notifications.reassessment_assigned(report)
    return report


def reports_query(contract_ids=None):
    """Reports newest first, with subject, contract and assignment loaded; `contract_ids`: a
    contractor's own contracts (a select of ids), None for all."""
    stmt = (select(ConditionReport)
            .options(selectinload(ConditionReport.subject), selectinload(ConditionReport.contract),
                     selectinload(ConditionReport.assignment))
            .order_by(ConditionReport.reported_on.desc(), ConditionReport.id.desc()))
    if contract_ids is not None:
        stmt = stmt.where(ConditionReport.contract_id.in_(contract_ids))
    return stmt


def reports_of_subject(subject_id: int, contract_ids=None) -> list[ConditionReport]:
    return list(db.session.execute(reports_query(contract_ids).where(ConditionReport.subject_id == subject_id))
                .scalars())


def reports_of_assignment(assignment_id: int) -> list[ConditionReport]:
    return list(db.session.execute(reports_query().where(ConditionReport.assignment_id == assignment_id)).scalars())


# --- care tiers ---------------------------------------------------------------------------------


def _assessments(subject_id: int) -> list[Assessed]:
    rows = db.session.execute(
        select(CompletionRecord.id, CompletionRecord.service_date, CompletionRecord.conclusion,
               TierEffectiveDate.effective_from)
        .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .outerjoin(TierEffectiveDate, TierEffectiveDate.record_id == CompletionRecord.id)
        .where(Assignment.subject_id == subject_id, Assignment.status != "cancelled",
               CompletionRecord.service_type == SELF_CARE, CompletionRecord.conclusion.is_not(None)))
    return [Assessed(row.id, row.service_date, row.conclusion, row.effective_from) for row in rows]


def tier_history(subject_id: int) -> list[TierChange]:
    """The person's care-tier changes in assessment order, each with its 生效日期."""
    return rule.tier_changes(_assessments(subject_id))


@dataclass(frozen=True)
class TierInForce:
    """The tier a person's care allowance follows on a day, and the change that set it."""

    tier: str  # 一档 全护理 / 二档 半护理 / 三档 全自理
    number: int  # 1, 2, 3: the local standards' care_allowance_tier{number}_fen
    effective_from: date
    record_id: int


def tier_in_force(subject_id: int, day: date) -> TierInForce | None:
    """The person's care tier on `day` (None: not assessed yet, or no change in force by then)."""
    change = rule.change_in_force(tier_history(subject_id), day)
    if change is None:
        return None
    return TierInForce(change.tier, change.number, change.effective_from, change.record_id)


def state_effective_date(record: CompletionRecord, effective_from: date, reason: str | None,
                         user: User) -> TierEffectiveDate:
    """State the 生效日期 of the tier change an assessment record made (refused for a record that
    changed no tier, or a date the rule does not allow). Caller commits."""
    assignment = db.session.get(Assignment, record.assignment_id)
    if record.service_type != SELF_CARE or record.id not in {c.record_id for c in tier_history(assignment.subject_id)}:
        raise EffectiveDateRefused("该评估记录未改变护理档次，无需确定生效日期")
    rule.check_effective_date(record.service_date, effective_from)
    row = db.session.execute(select(TierEffectiveDate).where(TierEffectiveDate.record_id == record.id)
                             ).scalar_one_or_none()
    if row is None:
        row = TierEffectiveDate(record_id=record.id)
        db.session.add(row)
    row.effective_from = effective_from
    row.reason = (reason or "").strip()[:200] or None
    row.stated_by_id = user.id
    db.session.flush()
    return row


# --- the KPI 按时复评率 ---------------------------------------------------------------------------


def due_reassessments(contract_id: int, quarter: Quarter, due_by: date | None = None) -> list[tuple]:
    """The contract's re-assessments (not cancelled) due in the quarter (on or before `due_by`
    when given), in id order, as `(id, on_time, due_date, completed_at)`: the KPI counts them and
    the review's fingerprint reads them."""
    last = quarter.end if due_by is None else min(quarter.end, due_by)
    rows = db.session.execute(
        select(Assignment.id, Assignment.status, Assignment.due_date, Assignment.completed_at)
        .where(Assignment.contract_id == contract_id, Assignment.reason == AssignmentReason.REASSESSMENT,
               Assignment.status != "cancelled", Assignment.due_date >= quarter.start, Assignment.due_date <= last)
        .order_by(Assignment.id))
    return [(row.id, rule.on_time(row.status == "completed",
                                  local_day(row.completed_at) if row.completed_at else None, row.due_date),
             row.due_date, row.completed_at) for row in rows]


def reassessment_evidence(rows: Sequence[tuple]) -> tuple[Evidence, tuple[int, ...]]:
    """按时复评率: re-assessments due done by their due date / due; and the ids counted."""
    ids = [row[0] for row in rows]
    done = tuple(row[0] for row in rows if row[1])
    return Evidence(KPI_KEY, len(done), len(ids), ids), done
