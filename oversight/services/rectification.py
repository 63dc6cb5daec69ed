"""The rectification loop (issue 10, point 8): a round not accepted is reissued with a new
deadline; past the last round the notice escalates to the admins and proposes a deduction for
the contract's quarterly review, which the supervisor confirms (a manual item) or dismisses.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select

from ..clock import county_today, utcnow
from ..domain.periods import quarter_of
from ..domain.rectification import ESCALATE, RectificationError, after_not_accepted, deduction_points
from ..extensions import db
from ..policy import Action, may
from ..models import Contract, ProposedDeduction, QuarterlyReview, RectificationNotice, User
from . import notifications
from .calendar import add_working_days


@dataclass(frozen=True)
class RectificationRules:
    """The settings of the loop (RECTIFICATION_REISSUE_DAYS, _MAX_ROUNDS, _DEDUCTION_POINTS)."""

    reissue_days: int = 15
    max_rounds: int = 2
    deduction_points: str = "-2"

    @classmethod
    def from_config(cls, config) -> RectificationRules:
        return cls(int(config["RECTIFICATION_REISSUE_DAYS"]), int(config["RECTIFICATION_MAX_ROUNDS"]),
                   str(config["RECTIFICATION_DEDUCTION_POINTS"]))


def rounds_of(notice: RectificationNotice) -> list[RectificationNotice]:
    """Every round of the notice's spot check, first round first."""
    return list(db.session.execute(select(RectificationNotice).where(
        RectificationNotice.spot_check_id == notice.spot_check_id).order_by(RectificationNotice.round)).scalars())


def follow_up(notice: RectificationNotice, user: User, *, today: date | None = None,
              reissue_deadline: date | None = None,
              rules: RectificationRules = RectificationRules()) -> RectificationNotice | None:
    """After a round was closed as not accepted: the next round (returned), or escalation (None)."""
    today = today or county_today()
    if after_not_accepted(notice.round, rules.max_rounds) == ESCALATE:
        escalate(notice, today, rules)
        return None
    deadline = reissue_deadline or add_working_days(_county_of(notice), today, rules.reissue_days)
    if deadline <= today:
        raise RectificationError("重新整改的期限应晚于今天")
    reissued = RectificationNotice(
        spot_check_id=notice.spot_check_id, contract_id=notice.contract_id, issued_by_id=user.id,
        deadline=deadline, requirement=notice.requirement, status="open", round=notice.round + 1,
        previous_id=notice.id)
    db.session.add(reissued)
    db.session.flush()
    notifications.notice_issued(reissued)
    return reissued


def _county_of(notice: RectificationNotice) -> int:
    return db.session.get(Contract, notice.contract_id).county_id


def escalate(notice: RectificationNotice, today: date, rules: RectificationRules) -> ProposedDeduction:
    """Tell every active admin, and propose a deduction for the review of the quarter escalated in."""
    notice.escalated_at = utcnow()
    points = deduction_points(rules.deduction_points)
    proposal = ProposedDeduction(
        contract_id=notice.contract_id, quarter=str(quarter_of(today)), notice_id=notice.id,
        points_centi=int(points.scaleb(2)), status="proposed",
        reason=f"整改通知{notice.number}经{notice.round}轮整改仍不合格")
    db.session.add(proposal)
    db.session.flush()
    notifications.notice_escalated(notice, proposal)
    return proposal


def escalated_notices() -> Select:
    """Escalated notices the admins have not yet handled, oldest first."""
    return (select(RectificationNotice).where(RectificationNotice.escalated_at.is_not(None),
                                              RectificationNotice.escalation_handled_at.is_(None))
            .order_by(RectificationNotice.escalated_at, RectificationNotice.id))


def handle_escalation(notice: RectificationNotice, admin: User, note: str) -> None:
    """An admin records what was done about an escalated notice."""
    if not may(admin, Action.HANDLE_ESCALATIONS):
        raise RectificationError("只有管理员可以处理升级的整改通知")
    if notice.escalated_at is None or notice.escalation_handled_at is not None:
        raise RectificationError("该整改通知没有待处理的升级")
    note = (note or "").strip()
    if not note:
        raise RectificationError("请写明处理意见")
    notice.escalation_handled_at, notice.escalation_handled_by_id, notice.escalation_note = utcnow(), admin.id, note
    db.session.flush()


# --- proposed deductions on the review ----------------------------------------------------------


def proposals_for(review: QuarterlyReview) -> list[ProposedDeduction]:
    """The deductions proposed for the review's contract and quarter, oldest first."""
    return list(db.session.execute(select(ProposedDeduction).where(
        ProposedDeduction.contract_id == review.contract_id, ProposedDeduction.quarter == review.quarter)
        .order_by(ProposedDeduction.id)).scalars())


def _pending(proposal: ProposedDeduction, review: QuarterlyReview) -> None:
    if proposal.status != "proposed":
        raise RectificationError("该扣分建议已处理")
    if (proposal.contract_id, proposal.quarter) != (review.contract_id, review.quarter):
        raise RectificationError("该扣分建议不属于这份考核")


def confirm_deduction(proposal: ProposedDeduction, review: QuarterlyReview, user: User) -> None:
    """The supervisor confirms the proposal when scoring: it becomes a manual item of the draft."""
    from .reviews import ReviewError, add_manual_item

    _pending(proposal, review)
    try:
        item = add_manual_item(review, Decimal(proposal.points_centi).scaleb(-2), proposal.reason, user)
    except ReviewError as error:
        raise RectificationError(str(error)) from None
    proposal.status, proposal.review_item_id = "confirmed", item.id
    proposal.decided_by_id, proposal.decided_at = user.id, utcnow()
    db.session.flush()


def dismiss_deduction(proposal: ProposedDeduction, review: QuarterlyReview, user: User, reason: str) -> None:
    """The supervisor does not deduct, and says why."""
    _pending(proposal, review)
    if review.status != "draft":
        raise RectificationError("只有草稿可以处理扣分建议")
    reason = (reason or "").strip()
    if not reason:
        raise RectificationError("请写明不予扣分的理由")
    proposal.status, proposal.dismiss_reason = "dismissed", reason
    proposal.decided_by_id, proposal.decided_at = user.id, utcnow()
    db.session.flush()
