"""Quarterly reviews: drafts scored from the records, manual items, publication and the
contractor's comment window, settlement, approval and locking, revisions (SPEC section 6).

Every service that changes a review calls `ensure_unlocked` first; the models refuse a flush
that would change a locked review all the same (`models.performance.LockedRecordChange`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..clock import county_today, utcnow
from ..domain.attachments import AttachmentRefused
from ..domain.duties import drafter_conflict
from ..domain.figures import Estimate, Preview, ReviewFigures, SchemeRef
from ..domain.periods import Quarter
from ..domain.review_steps import StepRefused, approval_blocker, comment_outcome
from ..domain.scoring import (
    Evidence,
    ManualItem,
    NothingToScore,
    QuarterScore,
    ScoringError,
    score_quarter,
)
from ..domain.standing import Standing, standing
from ..domain.vocabulary import ReviewStatus, ScoreAction, label_of
from ..extensions import db
from ..models import Contract, KpiScheme, QuarterlyReview, ReviewManualItem, User
from ..policy import Action, may, owns
from . import notifications
from .attachments import Upload, attach_all
from .freshness import Staleness, review_evidence, review_fingerprint, review_staleness, stamp
from .kpi_evidence import QuarterEvidence, estimate_of, gather_evidence, quarter_rows
from .schemes import SchemeMissing, domain_scheme, latest_scheme

DEFAULT_COMMENT_DAYS = 14


class ReviewError(ValueError):
    """A review change refused; the message is Chinese, for the user."""


class ReviewLocked(ReviewError):
    """The review or evaluation is approved and locked: it never changes again."""


class ReviewStale(ReviewError):
    """The records the figures were computed from have changed since: 记录已变化，请重新计算."""

    def __init__(self, staleness: Staleness):
        self.staleness = staleness
        super().__init__(staleness.message)


def ensure_unlocked(record: object) -> None:
    """The guard every service that changes a review or an evaluation calls first."""
    if record.locked:
        raise ReviewLocked("已审定锁定，不能修改；如需更正，请新建修订版本")


def total_of(review: QuarterlyReview) -> Decimal:
    """The review's total as the exact Decimal it was scored to."""
    return Decimal(review.total_centi).scaleb(-2)


# --- figures -----------------------------------------------------------------------------------


def figures_for(scheme: KpiScheme, quarter: str, result: QuarterScore, completed_volume: int,
                counted_ids: dict[str, Iterable[int]], estimates: Mapping[str, Estimate] | None = None,
                preview: Preview | None = None) -> ReviewFigures:
    """The stored figures of a review: everything its page and exports show; an indicator scored on
    a design-based estimate keeps it (`IndicatorFigures.estimate`)."""
    return ReviewFigures.of_score(SchemeRef(scheme.code, scheme.version, scheme.name), quarter, result,
                                  completed_volume, counted_ids, estimates, preview)


def _stored_evidence(figures: ReviewFigures) -> QuarterEvidence:
    """The evidence a review was scored from, read back from its figures."""
    return QuarterEvidence(
        evidence={item.key: Evidence(item.key, item.numerator, item.denominator, item.record_ids,
                                     estimate_of(figures.estimates, item.key))
                  for item in figures.indicators},
        counted_ids={item.key: item.counted_ids for item in figures.indicators if item.counted_ids is not None},
        completed_volume=figures.completed_volume,
        estimates=figures.estimates,
    )


def _manual_items(review: QuarterlyReview) -> list[ManualItem]:
    return [ManualItem(Decimal(item.points_centi).scaleb(-2), item.reason) for item in review.manual_items]


def _score(review: QuarterlyReview, scheme: KpiScheme, found: QuarterEvidence) -> None:
    """Score the review from `found` with its manual items and store figures, total and rating."""
    domain = domain_scheme(scheme)
    evidence = {key: item for key, item in found.evidence.items() if key in domain.keys}
    result = score_quarter(domain, evidence, _manual_items(review))
    review.scheme = scheme
    review.figures = figures_for(scheme, review.quarter, result, found.completed_volume, found.counted_ids,
                                 found.estimates)
    review.total_centi = int(result.total.scaleb(2))
    review.rating = result.rating
    review.completed_volume = found.completed_volume


def _score_from_records(review: QuarterlyReview, scheme: KpiScheme, quarter: Quarter) -> None:
    """Score the review from the records and stamp the fingerprint of the evidence it read."""
    rows = quarter_rows(review.contract_id, quarter)
    _score(review, scheme, gather_evidence(review.contract_id, quarter, rows=rows))
    stamp(review, review_fingerprint(review_evidence(review.contract_id, quarter, rows), review.figures.keys))


def _rescore(review: QuarterlyReview) -> None:
    """Re-total after a manual item changed, from the evidence already on the review."""
    _score(review, review.scheme, _stored_evidence(review.figures))


# --- finding reviews ---------------------------------------------------------------------------


def revisions(contract_id: int, quarter: str) -> list[QuarterlyReview]:
    """Every revision of a contract's quarter, oldest first."""
    return list(db.session.execute(
        select(QuarterlyReview).where(QuarterlyReview.contract_id == contract_id, QuarterlyReview.quarter == quarter)
        .order_by(QuarterlyReview.revision)
    ).scalars())


def latest_revision(contract_id: int, quarter: str) -> QuarterlyReview | None:
    found = revisions(contract_id, quarter)
    return found[-1] if found else None


def newest_revisions(model, period, condition=None):
    """Rows of a revised model (reviews, evaluations) that are the newest revision of their contract
    and period, among the rows meeting `condition`."""
    scope = select(model.contract_id, period.label("period"), func.max(model.revision).label("revision"))
    if condition is not None:
        scope = scope.where(condition)
    newest = scope.group_by(model.contract_id, period).subquery()
    return select(model).join(newest, (model.contract_id == newest.c.contract_id) & (period == newest.c.period)
                              & (model.revision == newest.c.revision))


def current_reviews_query(published_only: bool):
    """The newest revision of each contract's quarter (newest published one when `published_only`)."""
    return newest_revisions(QuarterlyReview, QuarterlyReview.quarter,
                            QuarterlyReview.status != "draft" if published_only else None)


def contract_reviews(contract_id: int, published_only: bool) -> list[QuarterlyReview]:
    """A contract's current reviews in quarter order."""
    return list(db.session.execute(
        current_reviews_query(published_only).where(QuarterlyReview.contract_id == contract_id)
        .order_by(QuarterlyReview.quarter)
    ).scalars())


def contract_standing(contract_id: int) -> Standing:
    """The contract's standing (two quarters in a row under 80) from its published results: the
    newest revision of each quarter that was published; drafts are no result yet."""
    return standing({Quarter.parse(review.quarter): total_of(review)
                     for review in contract_reviews(contract_id, published_only=True)})


# --- scoring -----------------------------------------------------------------------------------


PREVIEW_LABEL = "预览，季度未结束，不可发布"


@dataclass(frozen=True)
class ScoreOutcome:
    """What scoring did for one contract: created or refreshed a draft, kept a review, skipped, or —
    for a quarter not yet over — computed a preview (`preview`: its figures, never stored)."""

    contract: Contract
    review: QuarterlyReview | None
    action: ScoreAction
    reason: str = ""
    preview: ReviewFigures | None = None


def preview_figures(contract: Contract, quarter: Quarter, today: date) -> ReviewFigures:
    """A running quarter scored over what is due by `today` (assignments and notices due on or
    before it): the figures a review would show, marked `preview`, never stored nor publishable
    (so no fingerprint either)."""
    scheme = latest_scheme(contract.kpi_scheme_code)
    domain = domain_scheme(scheme)
    found = gather_evidence(contract.id, quarter, due_by=today)
    result = score_quarter(domain, {key: item for key, item in found.evidence.items() if key in domain.keys})
    return figures_for(scheme, str(quarter), result, found.completed_volume, found.counted_ids, found.estimates,
                       Preview(PREVIEW_LABEL, today))


def _overlaps(contract: Contract, quarter: Quarter) -> bool:
    return contract.term_start <= quarter.end and contract.term_end >= quarter.start


def score_contract_quarter(contract: Contract, quarter: Quarter, today: date | None = None,
                           user: User | None = None) -> ScoreOutcome:
    """Create the quarter's draft or refresh it from the records; a published review is kept. Before
    the quarter is over (county `today`, default now) only a preview is computed, nothing stored.
    `user` (None: the scheduler) becomes the draft's drafter."""
    current = latest_revision(contract.id, str(quarter))
    if current is not None and current.status != "draft":
        return ScoreOutcome(contract, current, ScoreAction.KEPT, f"{label_of(ReviewStatus, current.status)}，不再重新计算")
    if not _overlaps(contract, quarter):
        return ScoreOutcome(contract, None, ScoreAction.SKIPPED, "该季度不在合同服务期内")
    today = county_today() if today is None else today
    if today <= quarter.end:
        try:
            return ScoreOutcome(contract, None, ScoreAction.PREVIEW, PREVIEW_LABEL, preview_figures(contract, quarter, today))
        except (NothingToScore, SchemeMissing) as error:
            return ScoreOutcome(contract, None, ScoreAction.SKIPPED, f"{PREVIEW_LABEL}：{error}")
    try:
        scheme = latest_scheme(contract.kpi_scheme_code)
        review = current or QuarterlyReview(contract_id=contract.id, quarter=str(quarter), revision=1,
                                             status="draft")
        _score_from_records(review, scheme, quarter)
    except (NothingToScore, SchemeMissing) as error:
        return ScoreOutcome(contract, current, ScoreAction.KEPT if current else ScoreAction.SKIPPED, str(error))
    review.computed_at = utcnow()
    review.computed_by_id = user.id if user is not None else None
    if current is not None:
        db.session.flush()
        return ScoreOutcome(contract, review, ScoreAction.REFRESHED)
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:  # someone else created it meanwhile
        return ScoreOutcome(contract, latest_revision(contract.id, str(quarter)), ScoreAction.KEPT, "已由他人同时创建")
    return ScoreOutcome(contract, review, ScoreAction.CREATED)


def score_quarter_reviews(quarter: Quarter, contract_code: str | None = None,
                          today: date | None = None, user: User | None = None,
                          county_ids: list[int] | None = None) -> list[ScoreOutcome]:
    """Score every contract (of `county_ids`, None: every county) whose term overlaps the quarter,
    or the one contract named (a preview for each while the quarter is not over on `today`, see
    `score_contract_quarter`)."""
    stmt = select(Contract).order_by(Contract.code)
    if county_ids is not None:
        stmt = stmt.where(Contract.county_id.in_(county_ids))
    if contract_code:
        stmt = stmt.where(Contract.code == contract_code)
    else:
        stmt = stmt.where(Contract.term_start <= quarter.end, Contract.term_end >= quarter.start)
    contracts = db.session.execute(stmt).scalars().all()
    if contract_code and not contracts:
        raise ReviewError(f"合同编号“{contract_code}”不存在")
    return [score_contract_quarter(contract, quarter, today, user) for contract in contracts]


# --- the workflow ------------------------------------------------------------------------------


def _require_status(review: QuarterlyReview, *statuses: str, message: str) -> None:
    if review.status not in statuses:
        raise ReviewError(message)


def staleness(review: QuarterlyReview) -> Staleness:
    """What changed in the records since the review was computed (see services.freshness)."""
    legacy = review.evidence_sha256 is None
    return review_staleness(review, gather_evidence(review.contract_id, Quarter.parse(review.quarter))
                            if legacy else None)


def ensure_fresh(review: QuarterlyReview) -> None:
    """The guard of publish, settle and approve: refuse (ReviewStale, naming what changed) when
    the records changed since the review was computed. A review scored before fingerprints whose
    figures the records still give gets its fingerprint now."""
    found = staleness(review)
    if found.stale:
        raise ReviewStale(found)
    if review.evidence_sha256 is None:
        stamp(review, found.current)


def _back_to_draft(review: QuarterlyReview) -> None:
    review.status = "draft"
    review.published_at = review.comment_deadline = None
    review.contractor_position = review.contractor_comment = review.commented_at = review.commented_by_id = None
    review.settlement = review.settled_at = review.settled_by_id = None


def recompute(review: QuarterlyReview, today: date | None = None, user: User | None = None) -> ScoreOutcome:
    """重新计算 from the records. A draft is re-scored; a review already published (not locked)
    whose records changed goes back to draft, re-scored, its comment and settlement cleared (the
    audit log keeps them), to be published again. A locked review never changes; a quarter not yet
    over (county `today`, default now) has only a preview, never a recomputed draft."""
    ensure_unlocked(review)
    today = county_today() if today is None else today
    quarter = Quarter.parse(review.quarter)
    if today <= quarter.end:
        raise ReviewError(f"{review.quarter} 尚未结束，只能在“季度考核”页计算预览（{PREVIEW_LABEL}），不能重新计算草稿")
    if review.status != "draft":
        if not staleness(review).stale:
            raise ReviewError("记录未变化，无需重新计算")
        _back_to_draft(review)
    outcome = score_contract_quarter(review.contract, quarter, today, user)  # `user` becomes the drafter
    if outcome.action != ScoreAction.REFRESHED:
        raise ReviewError(outcome.reason or "只有草稿可以重新计算")
    return outcome


def add_manual_item(review: QuarterlyReview, points: Decimal | str, reason: str, user: User) -> ReviewManualItem:
    """A supervisor's signed points with the written reason, on a draft."""
    ensure_unlocked(review)
    _require_status(review, "draft", message="只有草稿可以加减分；已发布的考核由管理员在裁定时调整")
    return _add_item(review, points, reason, user)


def _add_item(review: QuarterlyReview, points: Decimal | str, reason: str, user: User) -> ReviewManualItem:
    try:
        item = ManualItem(points, reason)
    except ScoringError as error:
        raise ReviewError(str(error)) from None
    row = ReviewManualItem(review=review, points_centi=int(item.points.scaleb(2)), reason=item.reason,
                           created_by_id=user.id)
    db.session.add(row)
    _rescore(review)
    db.session.flush()
    return row


def remove_manual_item(review: QuarterlyReview, item_id: int) -> None:
    """Take a manual item off a draft."""
    ensure_unlocked(review)
    _require_status(review, "draft", message="只有草稿可以删除加减分")
    item = next((item for item in review.manual_items if item.id == item_id), None)
    if item is None:
        raise ReviewError("该加减分项不存在")
    review.manual_items.remove(item)
    db.session.delete(item)
    _rescore(review)
    db.session.flush()


def publish(review: QuarterlyReview, today: date, window_days: int = DEFAULT_COMMENT_DAYS) -> None:
    """Send the draft to the contractor, opening its comment window."""
    ensure_unlocked(review)
    _require_status(review, "draft", message="只有草稿可以发布")
    if today <= Quarter.parse(review.quarter).end:
        raise ReviewError(f"{review.quarter} 尚未结束，季度结束后才能发布考核结果")
    ensure_fresh(review)
    review.status = "published"
    review.published_at = utcnow()
    review.comment_deadline = today + timedelta(days=window_days)
    db.session.flush()
    notifications.review_published(review)


def comment(review: QuarterlyReview, user: User, position: str, text: str, today: date,
            uploads: Sequence[Upload] = ()) -> None:
    """The contractor agrees or disagrees, with its reasons and evidence files, within the
    comment window; a refused file refuses the comment."""
    ensure_unlocked(review)
    if not may(user, Action.COMMENT_ON_REVIEWS) or not owns(user, review.contract.contractor_id):
        raise ReviewError("只有本合同承接机构的人员可以提出意见")
    _require_status(review, "published", message="该考核不在征求意见阶段")
    try:
        status, text = comment_outcome(review, today, position, text)
        attach_all(review, list(uploads), user)
    except (StepRefused, AttachmentRefused) as error:
        raise ReviewError(str(error)) from None
    review.status = status
    review.contractor_position = position
    review.contractor_comment = text
    review.commented_at = utcnow()
    review.commented_by_id = user.id
    db.session.flush()
    notifications.review_commented(review)


def settle(review: QuarterlyReview, user: User, decision: str, adjustment: Decimal | str | None) -> None:
    """The reviewing official decides a dispute; an adjustment becomes a manual item with the decision."""
    ensure_unlocked(review)
    _require_status(review, "disputed", message="只有承接方有异议的考核需要裁定")
    _refuse_drafter(review, user)
    decision = (decision or "").strip()
    if not decision:
        raise ReviewError("请写明裁定意见")
    ensure_fresh(review)
    if adjustment not in (None, "") and Decimal(adjustment) != 0:
        _add_item(review, adjustment, f"复核裁定：{decision}", user)
    review.status = "settled"
    review.settlement = decision
    review.settled_by_id = user.id
    review.settled_at = utcnow()
    db.session.flush()
    notifications.review_settled(review)


def duty_blocker(record, user: User) -> str | None:
    """Why `user` may not settle or approve this review or evaluation: they computed its draft."""
    return drafter_conflict(record.computed_by_id, user.id)


def _refuse_drafter(record, user: User) -> None:
    conflict = duty_blocker(record, user)
    if conflict:
        raise ReviewError(conflict)


def approve(review: QuarterlyReview, user: User, today: date) -> None:
    """Approve and lock: the figures never change again."""
    ensure_unlocked(review)
    blocker = approval_blocker(review, today)
    if blocker:
        raise ReviewError(blocker)
    _refuse_drafter(review, user)
    ensure_fresh(review)
    review.status = "approved"
    review.approved_by_id = user.id
    review.approved_at = utcnow()
    review.locked = True
    db.session.flush()


def correct(review: QuarterlyReview, user: User, reason: str) -> QuarterlyReview:
    """A new draft revision of a locked review, re-scored from the records; the old one stays."""
    if not review.locked:
        raise ReviewError("未锁定的考核可直接修改，无需新建修订版本")
    if latest_revision(review.contract_id, review.quarter).id != review.id:
        raise ReviewError("该季度已有更新的修订版本")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("请写明更正原因")
    contract = review.contract
    new = QuarterlyReview(contract_id=contract.id, quarter=review.quarter, revision=review.revision + 1,
                          status="draft", supersedes_id=review.id, revision_reason=reason, computed_by_id=user.id)
    for item in review.manual_items:
        ReviewManualItem(review=new, points_centi=item.points_centi, reason=item.reason,
                         created_by_id=item.created_by_id)
    try:
        _score_from_records(new, latest_scheme(contract.kpi_scheme_code), Quarter.parse(review.quarter))
    except (NothingToScore, SchemeMissing) as error:
        raise ReviewError(str(error)) from None
    db.session.add(new)
    db.session.flush()
    return new
