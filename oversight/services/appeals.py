"""Appeals (申诉) of failed spot checks: filing within the window, an optional second re-check
(复核), and the decision of a supervisor other than the original checker (issue 10, point 7).

The KPI and the check results read the final verdict through `APPEAL_COLUMNS` and `final_of`: a
decided appeal's pass or fail, with a recorded re-check's field counts.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, select

from ..domain.appeals import (
    AppealRefused,
    Verdict,
    appeal_deadline,
    check_appealable,
    check_decider,
    check_rechecker,
    final_verdict,
)
from ..domain.comparison import ComparisonError, compare_record
from ..domain.vocabulary import AppealDecision, AttachmentOwner, CheckMethod
from ..extensions import db
from ..models import Appeal, Contract, RectificationNotice, SpotCheck, User
from ..policy import Action, may, owns
from ..clock import local_day, utcnow
from . import notifications
from .calendar import working_calendar
from .attachments import OwnerKind, Upload, attach_all, register_owner
from .spot_checks import reported_values

DEFAULT_APPEAL_DAYS = 10

def appeal_of(check: SpotCheck) -> Appeal | None:
    return db.session.execute(select(Appeal).where(Appeal.spot_check_id == check.id)).scalar_one_or_none()


def appeal_window_closes(check: SpotCheck, window_days: int = DEFAULT_APPEAL_DAYS) -> date:
    """The last county day the check may be appealed: `window_days` working days after the day it
    was recorded, by the holiday calendar in force that day."""
    recorded_on = local_day(check.created_at)
    return appeal_deadline(recorded_on, window_days, working_calendar(check.contract.county_id, recorded_on))


def appealable_checks(contract_ids: Select) -> Select:
    """Failed spot checks of the contracts, newest first (the contractor's list to appeal from)."""
    return (select(SpotCheck).where(SpotCheck.contract_id.in_(contract_ids), SpotCheck.passed.is_(False))
            .order_by(SpotCheck.created_at.desc(), SpotCheck.id.desc()))


def appeals_query(contract_ids: Select | None = None, status: str | None = None) -> Select:
    """Appeals waiting first, then the decided ones, newest first; scoped to contracts when given."""
    stmt = select(Appeal)
    if contract_ids is not None:
        stmt = stmt.where(Appeal.contract_id.in_(contract_ids))
    if status:
        stmt = stmt.where(Appeal.status == status)
    return stmt.order_by(Appeal.status == "decided", Appeal.filed_at.desc(), Appeal.id.desc())


def _own(check: SpotCheck, user: User) -> None:
    if not may(user, Action.APPEAL_SPOT_CHECKS) or not owns(user, db.session.get(Contract, check.contract_id).contractor_id):
        raise AppealRefused("只有本合同承接机构的人员可以申诉")


def file_appeal(check: SpotCheck, user: User, reason: str, today: date,
                window_days: int = DEFAULT_APPEAL_DAYS, uploads: Sequence[Upload] = ()) -> Appeal:
    """The contractor's appeal of a failed check, with its reasons and evidence files, within the
    window (AttachmentRefused for a bad file: nothing is filed)."""
    _own(check, user)
    recorded_on = local_day(check.created_at)
    check_appealable(passed=check.passed, recorded_on=recorded_on, today=today,
                     window_days=window_days, already_appealed=appeal_of(check) is not None,
                     calendar=working_calendar(check.contract.county_id, recorded_on))
    reason = (reason or "").strip()
    if not reason:
        raise AppealRefused("请写明申诉理由")
    appeal = Appeal(spot_check_id=check.id, contract_id=check.contract_id, reason=reason, filed_by_id=user.id,
                    status="filed")
    db.session.add(appeal)
    db.session.flush()
    attach_all(appeal, list(uploads), user)
    return appeal


def _staff_other_than_checker(appeal: Appeal, user: User) -> None:
    if not may(user, Action.DECIDE_APPEALS):
        raise AppealRefused("只有监管人员可以办理申诉")
    check_decider(decider_id=user.id, checker_id=appeal.spot_check.checker_id)


def may_decide(appeal: Appeal, user: User) -> str | None:
    """Why `user` may not order a re-check for or decide this appeal (None when they may)."""
    try:
        _staff_other_than_checker(appeal, user)
    except AppealRefused as refusal:
        return str(refusal)
    if appeal.status == "decided":
        return "申诉已裁决"
    return None


def order_recheck(appeal: Appeal, user: User, assignee: User) -> None:
    """Ask for a second re-check before deciding; the assignee is not the original checker."""
    _staff_other_than_checker(appeal, user)
    if appeal.status != "filed":
        raise AppealRefused("只有待裁决且尚未复核的申诉可以安排复核")
    if not may(assignee, Action.RECHECK_APPEALS) or not assignee.is_active:
        raise AppealRefused("复核只能安排给在岗的监管人员")
    check_rechecker(rechecker_id=assignee.id, checker_id=appeal.spot_check.checker_id)
    appeal.status = "recheck_ordered"
    appeal.recheck_ordered_by_id, appeal.recheck_ordered_at = user.id, utcnow()
    appeal.recheck_assigned_to_id = assignee.id
    db.session.flush()


def record_recheck(appeal: Appeal, user: User, *, method: str, checked_on: date, values: dict,
                   note: str | None, today: date) -> None:
    """The second re-check's values, compared with the contractor's record like the first."""
    if appeal.status != "recheck_ordered":
        raise AppealRefused("该申诉没有待录入的复核")
    if not may(user, Action.RECHECK_APPEALS):
        raise AppealRefused("只有监管人员可以录入复核")
    check = appeal.spot_check
    check_rechecker(rechecker_id=user.id, checker_id=check.checker_id)
    if appeal.recheck_assigned_to_id not in (None, user.id) and not may(user, Action.RECHECK_ITEMS_OF_OTHERS):
        raise AppealRefused("该复核已安排给其他监管人员")
    if method not in CheckMethod.codes():
        raise AppealRefused(f"复核方式应为{'、'.join(CheckMethod.codes())}之一")
    if checked_on > today:
        raise AppealRefused("复核日期不能晚于今天")
    if checked_on < check.checked_on:
        raise AppealRefused(f"复核日期不能早于原复检日期 {check.checked_on}")
    rechecked = {key: value for key, value in values.items() if value is not None}
    try:
        comparison = compare_record(check.record.service_type, reported_values(check.record), rechecked)
    except ComparisonError as error:
        raise AppealRefused(str(error)) from None
    appeal.recheck_by_id, appeal.recheck_method, appeal.recheck_on = user.id, method, checked_on
    appeal.recheck_values = {key: sorted(value) if isinstance(value, (set, frozenset, list)) else value
                             for key, value in rechecked.items()}
    appeal.recheck_comparison = comparison.as_dict()
    appeal.recheck_fields_compared, appeal.recheck_fields_differing = comparison.compared, comparison.differing
    appeal.recheck_passed = comparison.passed
    appeal.recheck_note = (note or "").strip() or None
    appeal.status = "rechecked"
    db.session.flush()


def decide_appeal(appeal: Appeal, user: User, decision: str, reason: str) -> None:
    """Uphold or overturn, with the reason; an overturned check's rectification notices are withdrawn."""
    _staff_other_than_checker(appeal, user)
    if appeal.status == "decided":
        raise AppealRefused("申诉已裁决")
    if appeal.status == "recheck_ordered":
        raise AppealRefused("已安排复核，请先录入复核结果再裁决")
    if decision not in AppealDecision.codes():
        raise AppealRefused("请选择维持或改判")
    reason = (reason or "").strip()
    if not reason:
        raise AppealRefused("请写明裁决理由")
    appeal.decision, appeal.decision_reason = decision, reason
    appeal.decided_by_id, appeal.decided_at = user.id, utcnow()
    appeal.final_passed = decision == AppealDecision.OVERTURNED
    appeal.status = "decided"
    if appeal.final_passed:
        _withdraw_notices(appeal, user)
    db.session.flush()
    notifications.appeal_decided(appeal)


def _withdraw_notices(appeal: Appeal, user: User) -> None:
    """The failure is overturned: its notices (every round) no longer ask anything of the contractor."""
    notices = db.session.execute(select(RectificationNotice).where(
        RectificationNotice.spot_check_id == appeal.spot_check_id)).scalars()
    for notice in notices:
        notice.status, notice.outcome = "closed", "withdrawn"
        notice.closing_note = f"申诉改判为合格，整改通知撤销：{appeal.decision_reason}"
        notice.closed_at = notice.closed_at or utcnow()
        notice.closed_by_id = notice.closed_by_id or user.id


# What the check results read of an outer-joined appeal to find a check's final verdict.
APPEAL_COLUMNS = (Appeal.decision.label("appeal_decision"), Appeal.recheck_passed.label("recheck_passed"),
                  Appeal.recheck_fields_compared.label("recheck_compared"),
                  Appeal.recheck_fields_differing.label("recheck_differing"))


def final_of(row) -> Verdict:
    """The final verdict of a row holding a check's passed and field counts and `APPEAL_COLUMNS`."""
    recheck = None if row.recheck_passed is None else Verdict(row.recheck_passed, row.recheck_compared,
                                                                 row.recheck_differing)
    return final_verdict(Verdict(row.passed, row.fields_compared, row.fields_differing), row.appeal_decision, recheck)


def final_verdict_of(check: SpotCheck) -> Verdict:
    """One check's final verdict (its decided appeal's, else its own)."""
    appeal = appeal_of(check)
    decided = appeal is not None and appeal.status == "decided"
    recheck = (Verdict(appeal.recheck_passed, appeal.recheck_fields_compared, appeal.recheck_fields_differing)
               if decided and appeal.recheck_passed is not None else None)
    return final_verdict(Verdict(check.passed, check.fields_compared, check.fields_differing),
                         appeal.decision if decided else None, recheck)


# An appeal carries the contractor's evidence (filed with it, or added while it waits) and the
# bureau's (the second re-check's photos); both sides see every file of it.
register_owner(OwnerKind(
    AttachmentOwner.APPEAL, Appeal, contract_id=lambda appeal: appeal.contract_id,
    may_attach=lambda appeal, user: appeal.status != "decided" and (
        may(user, Action.DECIDE_APPEALS) or (may(user, Action.APPEAL_SPOT_CHECKS)
                                             and owns(user, appeal.contract.contractor_id))),
))
