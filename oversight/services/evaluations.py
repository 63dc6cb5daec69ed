"""Annual evaluation of a contract and the payment of its performance-linked share (SPEC section 6).

The year's score is the completed-volume-weighted mean of the approved quarterly reviews of the
quarters the contract's term covers, plus annual items. The payment splits the part of the
contract amount that falls in the year (by days of the term, exact to the fen) into a fixed and
a performance-linked share and pays the linked share at the rating's payout rate.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select

from ..clock import utcnow
from ..domain.evaluation import EvaluationError, annual_evaluation, performance_payment
from ..domain.figures import EvaluationFigures, ItemFigures, MissingQuarter, PaymentFigures, QuarterWeight, SchemeRef
from ..domain.fingerprints import fingerprint
from ..domain.periods import Quarter, quarters_of_year
from ..domain.review_steps import StepRefused, approval_blocker, comment_outcome
from ..domain.scoring import ManualItem, ScoringError, round_half_up
from ..domain.vocabulary import EvaluationStatus, PaymentKind, ReviewStatus, label_of
from ..extensions import db
from ..policy import EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS, Action, may, owns
from ..models import AnnualEvaluation, Contract, PaymentRecord, QuarterlyReview, User
from . import notifications
from .freshness import Staleness, evaluation_evidence, evaluation_staleness, stamp
from .reviews import duty_blocker, ensure_unlocked, latest_revision, newest_revisions, total_of
from .schemes import domain_scheme, payout_rates

DEFAULT_COMMENT_DAYS = 14



class EvaluationStale(EvaluationError):
    """The quarterly reviews, payments or contract terms the evaluation read have changed since."""

    def __init__(self, staleness: Staleness):
        self.staleness = staleness
        super().__init__(staleness.message)


def year_amount_fen(amount_fen: int, term_start: date, term_end: date, year: int) -> int:
    """The part of the amount that falls in the year, by days of the term; the years add up exactly."""
    term_days = (term_end - term_start).days + 1

    def share_through(day: date) -> int:
        days = min(max((day - term_start).days + 1, 0), term_days)
        return int(round_half_up(Fraction(amount_fen * days, term_days), 0))

    return share_through(date(year, 12, 31)) - share_through(date(year - 1, 12, 31))


def term_quarters(contract: Contract, year: int) -> list[Quarter]:
    """The quarters of the year the contract's term covers."""
    return [q for q in quarters_of_year(year) if contract.term_start <= q.end and contract.term_end >= q.start]


def quarter_standings(contract: Contract, year: int) -> list[tuple[Quarter, QuarterlyReview | None]]:
    """Each covered quarter with its newest review revision (None when never scored)."""
    return [(quarter, latest_revision(contract.id, str(quarter))) for quarter in term_quarters(contract, year)]


def evaluation_revisions(contract_id: int, year: int) -> list[AnnualEvaluation]:
    """Every revision of a contract's year, oldest first."""
    return list(db.session.execute(
        select(AnnualEvaluation).where(AnnualEvaluation.contract_id == contract_id, AnnualEvaluation.year == year)
        .order_by(AnnualEvaluation.revision)
    ).scalars())


def shown_to_contractors(evaluation: AnnualEvaluation) -> bool:
    """Whether a contractor sees the evaluation at all (the policy's one rule: once published)."""
    return evaluation.status in EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS


def payment_final(evaluation: AnnualEvaluation) -> bool:
    """Payment figures are final only once the evaluation is approved; before, they read 未定."""
    return evaluation.status == EvaluationStatus.APPROVED


def current_evaluations_query(published_only: bool):
    """The newest revision of each contract's year (newest one a contractor may see when `published_only`)."""
    return newest_revisions(AnnualEvaluation, AnnualEvaluation.year,
                            AnnualEvaluation.status.in_(EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS)
                            if published_only else None)


def paid_fen(contract_id: int, kind: str, year: int | None = None) -> int:
    """What was paid on the contract of one kind (and, for the linked share, one year)."""
    stmt = select(func.coalesce(func.sum(PaymentRecord.amount_fen), 0)).where(
        PaymentRecord.contract_id == contract_id, PaymentRecord.kind == kind)
    if year is not None:
        stmt = stmt.where(PaymentRecord.year == year)
    return int(db.session.execute(stmt).scalar_one())


def _stored_items(evaluation: AnnualEvaluation) -> list[ManualItem]:
    return evaluation.figures.items() if evaluation.figures is not None else []


def _evaluate(evaluation: AnnualEvaluation, items: list[ManualItem], revision_reason: str | None = None) -> None:
    """Compute the year from the approved quarters, the items and the payments, and store it."""
    contract = evaluation.contract or db.session.get(Contract, evaluation.contract_id)
    standings = quarter_standings(contract, evaluation.year)
    rows = evaluation_evidence(contract, evaluation.year, standings)
    approved = [review for _, review in standings if review is not None and review.status == "approved"]
    if not approved:
        raise EvaluationError(f"{evaluation.year}年还没有审定的季度考核，无法进行年度评价")
    scheme = approved[-1].scheme
    result = annual_evaluation([(total_of(review), review.completed_volume) for review in approved], items,
                               domain_scheme(scheme).bands)
    base = year_amount_fen(contract.amount_fen, contract.term_start, contract.term_end, evaluation.year)
    payment = performance_payment(base, Decimal(contract.performance_share_bp).scaleb(-4), result.rating,
                                  payout_rates(scheme), paid_fen(contract.id, "performance", evaluation.year))
    if revision_reason is None and evaluation.figures is not None:
        revision_reason = evaluation.figures.revision_reason
    evaluation.figures = EvaluationFigures(
        year=evaluation.year,
        scheme=SchemeRef(scheme.code, scheme.version, scheme.name),
        quarters=tuple(
            QuarterWeight(quarter=review.quarter, review_id=review.id, revision=review.revision,
                          total=total_of(review), completed_volume=review.completed_volume, weight=weight)
            for review, weight in zip(approved, result.weights)
        ),
        missing_quarters=tuple(
            MissingQuarter(str(quarter), review.status if review else None)
            for quarter, review in standings if review is None or review.status != "approved"
        ),
        volume_weighted=result.volume_weighted,
        mean=result.mean,
        annual_items=tuple(ItemFigures.of_item(item, round_half_up(item.points)) for item in result.items),
        items_total=result.items_total,
        score=result.score,
        rating=result.rating,
        payment=PaymentFigures(
            contract_amount_fen=contract.amount_fen,
            year_amount_fen=base,
            performance_share=payment.performance_share,
            fixed_fen=payment.fixed_fen,
            linked_fen=payment.linked_fen,
            payout_rate=payment.payout_rate,
            payable_fen=payment.payable_fen,
            withheld_fen=payment.withheld_fen,
            already_paid_fen=payment.already_paid_fen,
            remaining_fen=payment.remaining_fen,
            to_recover_fen=payment.to_recover_fen,
        ),
        revision_reason=revision_reason,
    )
    stamp(evaluation, fingerprint(rows))
    evaluation.score_centi = int(result.score.scaleb(2))
    evaluation.rating = result.rating
    evaluation.linked_fen = payment.linked_fen
    evaluation.payable_fen = payment.payable_fen
    evaluation.withheld_fen = payment.withheld_fen
    evaluation.computed_at = utcnow()


class EvaluationPublished(EvaluationError):
    """The evaluation left the draft stage: its figures are the contractor's to comment on now."""


def _require_draft(evaluation: AnnualEvaluation, message: str) -> None:
    if evaluation.status != EvaluationStatus.DRAFT:
        raise EvaluationPublished(message)


def _back_to_draft(evaluation: AnnualEvaluation) -> None:
    """A published evaluation whose records changed starts over: recomputed, to be published again
    (the contractor's comment and any settlement are cleared; the audit log keeps them)."""
    evaluation.status = "draft"
    evaluation.published_at = evaluation.comment_deadline = None
    evaluation.contractor_position = evaluation.contractor_comment = None
    evaluation.commented_at = evaluation.commented_by_id = None
    evaluation.settlement = evaluation.settled_at = evaluation.settled_by_id = None


def compute_evaluation(contract: Contract, year: int, user: User | None = None) -> AnnualEvaluation:
    """Create the year's draft evaluation or refresh it; an approved one is locked (ReviewLocked), a
    published one is kept unless what it read changed (then it goes back to draft, recomputed; else
    EvaluationPublished). `user` (None: the scheduler) is its drafter."""
    found = evaluation_revisions(contract.id, year)
    if found:
        ensure_unlocked(found[-1])
        if found[-1].status != EvaluationStatus.DRAFT:
            if not evaluation_freshness(found[-1]).stale:
                raise EvaluationPublished(f"{label_of(EvaluationStatus, found[-1].status)}，记录未变化，不再重新计算")
            _back_to_draft(found[-1])
    evaluation = found[-1] if found else AnnualEvaluation(contract=contract, year=year, revision=1, status="draft")
    _evaluate(evaluation, _stored_items(evaluation) if found else [])
    evaluation.computed_by_id = user.id if user is not None else None
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


def _change_items(evaluation: AnnualEvaluation, items: list[ManualItem]) -> None:
    ensure_unlocked(evaluation)
    _evaluate(evaluation, items)
    db.session.flush()


def add_annual_item(evaluation: AnnualEvaluation, points: Decimal | str, reason: str) -> None:
    """Signed annual points with the written reason, on a draft."""
    ensure_unlocked(evaluation)
    _require_draft(evaluation, "只有草稿可以加减分；已发布的年度评价由管理员在裁定时调整")
    try:
        item = ManualItem(points, reason)
    except ScoringError as error:
        raise EvaluationError(str(error)) from None
    _change_items(evaluation, _stored_items(evaluation) + [item])


def remove_annual_item(evaluation: AnnualEvaluation, index: int) -> None:
    """Take the annual item at `index` off the draft."""
    ensure_unlocked(evaluation)
    _require_draft(evaluation, "只有草稿可以删除加减分")
    items = _stored_items(evaluation)
    if not 0 <= index < len(items):
        raise EvaluationError("该加减分项不存在")
    _change_items(evaluation, items[:index] + items[index + 1:])


def evaluation_freshness(evaluation: AnnualEvaluation) -> Staleness:
    """What changed in the quarterly reviews, payments and contract since the evaluation was computed."""
    contract = evaluation.contract
    rows = evaluation_evidence(contract, evaluation.year, quarter_standings(contract, evaluation.year))
    recomputed = None
    if evaluation.evidence_sha256 is None:  # computed before fingerprints: compare the figures
        scratch = AnnualEvaluation(contract_id=evaluation.contract_id, year=evaluation.year)
        try:
            _evaluate(scratch, _stored_items(evaluation), evaluation.figures.revision_reason)
        except EvaluationError:
            pass
        recomputed = scratch.figures
    return evaluation_staleness(evaluation, rows, recomputed)


def ensure_fresh_evaluation(evaluation: AnnualEvaluation) -> None:
    """Refuse (EvaluationStale) when what the evaluation read has changed since it was computed."""
    found = evaluation_freshness(evaluation)
    if found.stale:
        raise EvaluationStale(found)
    if evaluation.evidence_sha256 is None:
        stamp(evaluation, found.current)


def _missing_quarters_message(evaluation: AnnualEvaluation) -> str | None:
    missing = evaluation.figures.missing_quarters
    if not missing:
        return None
    return "以下季度的考核尚未审定：" + "、".join(
        f"{row.quarter}（{label_of(ReviewStatus, row.status) if row.status else '未评分'}）" for row in missing)


def publish_evaluation(evaluation: AnnualEvaluation, today: date, window_days: int = DEFAULT_COMMENT_DAYS) -> None:
    """Send the draft to the contractor, opening its comment window; every quarter must be approved."""
    ensure_unlocked(evaluation)
    _require_draft(evaluation, "只有草稿可以发布")
    ensure_fresh_evaluation(evaluation)
    missing = _missing_quarters_message(evaluation)
    if missing:
        raise EvaluationError(missing)
    evaluation.status = "published"
    evaluation.published_at = utcnow()
    evaluation.comment_deadline = today + timedelta(days=window_days)
    db.session.flush()
    notifications.evaluation_published(evaluation)


def comment_evaluation(evaluation: AnnualEvaluation, user: User, position: str, text: str, today: date) -> None:
    """The contractor agrees or disagrees, with its reasons, within the comment window."""
    ensure_unlocked(evaluation)
    if not may(user, Action.COMMENT_ON_EVALUATIONS) or not owns(user, evaluation.contract.contractor_id):
        raise EvaluationError("只有本合同承接机构的人员可以提出意见")
    if evaluation.status != "published":
        raise EvaluationError("该年度评价不在征求意见阶段")
    try:
        status, text = comment_outcome(evaluation, today, position, text)
    except StepRefused as error:
        raise EvaluationError(str(error)) from None
    evaluation.status = status
    evaluation.contractor_position, evaluation.contractor_comment = position, text
    evaluation.commented_at, evaluation.commented_by_id = utcnow(), user.id
    db.session.flush()
    notifications.evaluation_commented(evaluation)


def settle_evaluation(evaluation: AnnualEvaluation, user: User, decision: str,
                      adjustment: Decimal | str | None) -> None:
    """An admin other than the drafter decides a dispute; an adjustment becomes an annual item."""
    ensure_unlocked(evaluation)
    if evaluation.status != "disputed":
        raise EvaluationError("只有承接方有异议的年度评价需要裁定")
    conflict = duty_blocker(evaluation, user)
    if conflict:
        raise EvaluationError(conflict)
    ensure_fresh_evaluation(evaluation)
    decision = (decision or "").strip()
    if not decision:
        raise EvaluationError("请写明裁定意见")
    if adjustment not in (None, "") and Decimal(adjustment) != 0:
        try:
            item = ManualItem(adjustment, f"复核裁定：{decision}")
        except ScoringError as error:
            raise EvaluationError(str(error)) from None
        _change_items(evaluation, _stored_items(evaluation) + [item])
    evaluation.status = "settled"
    evaluation.settlement, evaluation.settled_by_id, evaluation.settled_at = decision, user.id, utcnow()
    db.session.flush()
    notifications.evaluation_settled(evaluation)


def approval_refusal(evaluation: AnnualEvaluation, user: User, today: date,
                     staleness: Staleness | None = None) -> str | None:
    """Why `user` cannot approve and lock the evaluation today, in the words `approve_evaluation`
    refuses with; None when they can. The page shows it beside the disabled button."""
    if staleness is not None and staleness.stale:
        return staleness.message
    return (approval_blocker(evaluation, today) or duty_blocker(evaluation, user)
            or _missing_quarters_message(evaluation))


def approve_evaluation(evaluation: AnnualEvaluation, user: User, today: date) -> None:
    """Lock the evaluation as computed, after the contractor's comment window and any settlement:
    refused when what it read has changed since (重新计算 first), until every quarter of the term is
    approved, and for its drafter."""
    ensure_unlocked(evaluation)
    ensure_fresh_evaluation(evaluation)
    refusal = approval_refusal(evaluation, user, today)
    if refusal:
        raise EvaluationError(refusal)
    evaluation.status = "approved"
    evaluation.approved_by_id = user.id
    evaluation.approved_at = utcnow()
    evaluation.locked = True
    db.session.flush()


def correct_evaluation(evaluation: AnnualEvaluation, reason: str, user: User | None = None) -> AnnualEvaluation:
    """A new draft revision of a locked evaluation, recomputed; the old one stays."""
    if not evaluation.locked:
        raise EvaluationError("未锁定的年度评价可直接重新计算，无需新建修订版本")
    if evaluation_revisions(evaluation.contract_id, evaluation.year)[-1].id != evaluation.id:
        raise EvaluationError("该年度已有更新的修订版本")
    reason = (reason or "").strip()
    if not reason:
        raise EvaluationError("请写明更正原因")
    new = AnnualEvaluation(contract=evaluation.contract, year=evaluation.year, revision=evaluation.revision + 1,
                           status="draft", computed_by_id=user.id if user is not None else None)
    _evaluate(new, _stored_items(evaluation), revision_reason=reason)
    db.session.add(new)
    db.session.flush()
    return new


def record_payment(contract: Contract, paid_on: date, amount_fen: int, kind: str, year: int | None,
                   note: str | None) -> PaymentRecord:
    """A payment the bureau made on the contract; a performance payment names the year it settles."""
    if amount_fen <= 0:
        raise EvaluationError("支付金额应大于0")
    if kind not in PaymentKind.codes():
        raise EvaluationError("请选择支付类别")
    if kind == "performance" and year is None:
        raise EvaluationError("绩效挂钩部分的支付须注明所属年度")
    payment = PaymentRecord(contract_id=contract.id, paid_on=paid_on, amount_fen=amount_fen, kind=kind,
                            year=year if kind == "performance" else None, note=(note or "").strip() or None)
    db.session.add(payment)
    db.session.flush()
    return payment


def contract_payments(contract_id: int) -> list[PaymentRecord]:
    """The contract's payments, oldest first."""
    return list(db.session.execute(
        select(PaymentRecord).where(PaymentRecord.contract_id == contract_id)
        .order_by(PaymentRecord.paid_on, PaymentRecord.id)
    ).scalars())
