"""Quarterly reviews: score, add manual items, publish, comment, settle, approve and lock, correct."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...charts.performance import contractors_side_by_side, indicator_breakdown, rates_with_intervals, score_trend
from ...clock import county_today
from ...domain.periods import Quarter, quarter_of
from ...domain.vocabulary import ScoreAction
from ...domain import review_steps
from ...extensions import db
from ...domain.rectification import RectificationError
from ...models import Contract, ProposedDeduction, QuarterlyReview
from ...policy import Action, may
from ...services import rectification
from ...services import reviews as service
from ...services.callbacks import SATISFACTION_LEVELS
from ...services.kpi_evidence import RECORD_KINDS, records_behind
from ..access import visible_county_ids
from ..access import (
    get_contract_or_404,
    get_review_or_404,
    permission_required,
    scope_to_own_contracts,
    sees_draft_reviews,
    visible_reviews,
)
from ..attachments_common import received
from ..forms_common import CorrectForm, refill, refilled
from ..params import database_int, page_number, paginate
from ..workflow import refuse_form, run_step
from .forms import CommentForm, DismissDeductionForm, ManualItemForm, ScoreForm, SettleForm

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _png(data: bytes):
    return data, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


def _visible_contracts() -> list[Contract]:
    stmt = scope_to_own_contracts(select(Contract).order_by(Contract.code), Contract.id)
    return db.session.execute(stmt).scalars().all()


@bp.app_template_global()
def contract_performance(contract: Contract) -> dict:
    """The contract's current reviews and its standing (the two-quarters-under-80 warning), for the contract page."""
    found = service.contract_reviews(contract.id, published_only=not sees_draft_reviews())
    return {"reviews": found, "standing": service.contract_standing(contract.id)}


@bp.route("/")
@login_required
def index():
    quarter = request.args.get("quarter", "").strip().upper()
    contract_id = request.args.get("contract", type=database_int)
    stmt = scope_to_own_contracts(service.current_reviews_query(published_only=not sees_draft_reviews()),
                                  QuarterlyReview.contract_id)
    if quarter:
        stmt = stmt.where(QuarterlyReview.quarter == quarter)
    if contract_id:
        stmt = stmt.where(QuarterlyReview.contract_id == contract_id)
    page = paginate(stmt.order_by(QuarterlyReview.quarter.desc(), QuarterlyReview.contract_id))
    form = ScoreForm(quarter=str(quarter_of(county_today()).previous()))
    form.contract_id.choices = [(0, "全部合同")] + [(c.id, f"{c.code} {c.title}") for c in _visible_contracts()]
    refill(form)
    return render_template("reviews/index.html", page=page, form=form, quarter=quarter, contract_id=contract_id,
                           contracts=_visible_contracts())


@bp.route("/score", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def score():
    form = ScoreForm()
    form.contract_id.choices = [(0, "全部合同")] + [(c.id, c.code) for c in _visible_contracts()]
    if not form.validate_on_submit():
        return refuse_form(form, ".index")
    quarter = Quarter.parse(form.quarter.data)
    contract = get_contract_or_404(form.contract_id.data) if form.contract_id.data else None
    today = county_today()
    outcomes = service.score_quarter_reviews(quarter, contract.code if contract else None, today, current_user,
                                             county_ids=visible_county_ids())
    db.session.commit()
    if today <= quarter.end:  # a preview: shown, never stored
        return render_template("reviews/preview.html", quarter=quarter, today=today, outcomes=outcomes,
                               label=service.PREVIEW_LABEL)
    for outcome in outcomes:
        if outcome.action in (ScoreAction.CREATED, ScoreAction.REFRESHED):
            flash(f"{outcome.contract.code}：已计算 {quarter} 考核草稿，{outcome.review.figures.total} 分", "success")
        else:
            flash(f"{outcome.contract.code}：{outcome.reason}", "warning")
    if contract and outcomes and outcomes[0].review is not None:
        return redirect(url_for(".detail", review_id=outcomes[0].review.id))
    return redirect(url_for(".index", quarter=str(quarter)))


@bp.route("/<int:review_id>")
@login_required
def detail(review_id: int):
    review = get_review_or_404(review_id)
    bureau = may(current_user, Action.READ_OVERSIGHT)
    today = county_today()
    history = visible_reviews(service.revisions(review.contract_id, review.quarter))
    return render_template(
        "reviews/detail.html", review=review, figures=review.figures,
        history=history, today=today,
        window_open=review_steps.window_open(review, today), blocker=review_steps.approval_blocker(review, today),
        duty_blocker=service.duty_blocker(review, current_user),
        proposals=rectification.proposals_for(review) if sees_draft_reviews() else [],
        dismiss_form=refilled(DismissDeductionForm()),
        standing=service.contract_standing(review.contract_id), record_kinds=RECORD_KINDS,
        staleness=service.staleness(review) if bureau and not review.locked else None,
        item_form=refilled(ManualItemForm()), comment_form=refilled(CommentForm()), settle_form=refilled(SettleForm()),
        correct_form=refilled(CorrectForm()),
    )


@bp.route("/<int:review_id>/indicators/<key>")
@login_required
def records(review_id: int, key: str):
    review = get_review_or_404(review_id)
    item = review.figures.indicator(key)
    if item is None or key not in RECORD_KINDS:
        abort(404)
    show = request.args.get("show", "all")
    counted = set(item.counted_ids or ())
    ids = list(item.record_ids)
    if show == "counted" and item.counted_ids is not None:
        ids = [i for i in ids if i in counted]
    elif show == "not_counted" and item.counted_ids is not None:
        ids = [i for i in ids if i not in counted]
    else:
        show = "all"
    per_page = current_app.config["REVIEW_RECORDS_PAGE_SIZE"]
    number = page_number(per_page)
    pages = max((len(ids) + per_page - 1) // per_page, 1)
    shown = ids[(number - 1) * per_page: number * per_page]
    return render_template("reviews/records.html", review=review, item=item, kind=RECORD_KINDS[key], show=show,
                           rows=records_behind(RECORD_KINDS[key], shown, review.contract_id, Quarter.parse(review.quarter)), counted=counted, total=len(ids),
                           page_number=number, pages=pages, satisfaction_labels=SATISFACTION_LEVELS)


def _act(review_id: int, action, success: str):
    return run_step(get_review_or_404(review_id), action, success, ".detail", "review_id")


def _refuse(form, review_id: int):
    return refuse_form(form, ".detail", review_id=review_id)


@bp.route("/<int:review_id>/refresh", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def refresh(review_id: int):
    return _act(review_id, lambda review: service.recompute(review, user=current_user),
                "已按最新记录重新计算（草稿）")


@bp.route("/<int:review_id>/items", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def add_item(review_id: int):
    form = ManualItemForm()
    if not form.validate_on_submit():
        return _refuse(form, review_id)
    return _act(review_id, lambda review: service.add_manual_item(review, form.points.data, form.reason.data,
                                                                   current_user), "已添加加减分项")


def _proposal_or_404(review, proposal_id: int) -> ProposedDeduction:
    proposal = db.session.get(ProposedDeduction, proposal_id)
    if proposal is None or (proposal.contract_id, proposal.quarter) != (review.contract_id, review.quarter):
        abort(404)
    return proposal


def _deduction_step(review, action) -> None:
    try:
        action()
    except RectificationError as error:
        raise service.ReviewError(str(error)) from None


@bp.route("/<int:review_id>/deductions/<int:proposal_id>/confirm", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def confirm_deduction(review_id: int, proposal_id: int):
    return _act(review_id, lambda review: _deduction_step(review, lambda: rectification.confirm_deduction(
        _proposal_or_404(review, proposal_id), review, current_user)), "已按建议扣分")


@bp.route("/<int:review_id>/deductions/<int:proposal_id>/dismiss", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def dismiss_deduction(review_id: int, proposal_id: int):
    form = DismissDeductionForm()
    if not form.validate_on_submit():
        return _refuse(form, review_id)
    return _act(review_id, lambda review: _deduction_step(review, lambda: rectification.dismiss_deduction(
        _proposal_or_404(review, proposal_id), review, current_user, form.reason.data)), "已记录不予扣分的理由")


@bp.route("/<int:review_id>/items/<int:item_id>/delete", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def remove_item(review_id: int, item_id: int):
    return _act(review_id, lambda review: service.remove_manual_item(review, item_id), "已删除加减分项")


@bp.route("/<int:review_id>/publish", methods=["POST"])
@permission_required(Action.SCORE_REVIEWS)
def publish(review_id: int):
    days = current_app.config["REVIEW_COMMENT_DAYS"]
    return _act(review_id, lambda review: service.publish(review, county_today(), days),
                "已发布给承接机构，意见期开始")


@bp.route("/<int:review_id>/comment", methods=["POST"])
@permission_required(Action.COMMENT_ON_REVIEWS)
def comment(review_id: int):
    form = CommentForm()
    if not form.validate_on_submit():
        return _refuse(form, review_id)
    uploads = received(form.attachments.data)
    return _act(review_id, lambda review: service.comment(review, current_user, form.position.data,
                                                          form.comment.data, county_today(), uploads),
                "已提交意见")


@bp.route("/<int:review_id>/settle", methods=["POST"])
@permission_required(Action.SETTLE_REVIEWS)
def settle(review_id: int):
    form = SettleForm()
    if not form.validate_on_submit():
        return _refuse(form, review_id)
    return _act(review_id, lambda review: service.settle(review, current_user, form.decision.data,
                                                         form.adjustment.data), "已裁定")


@bp.route("/<int:review_id>/approve", methods=["POST"])
@permission_required(Action.APPROVE_REVIEWS)
def approve(review_id: int):
    return _act(review_id, lambda review: service.approve(review, current_user, county_today()),
                "已审定并锁定")


@bp.route("/<int:review_id>/correct", methods=["POST"])
@permission_required(Action.CORRECT_REVIEWS)
def correct(review_id: int):
    form = CorrectForm()
    if not form.validate_on_submit():
        return _refuse(form, review_id)
    return _act(review_id, lambda review: service.correct(review, current_user, form.reason.data),
                "已新建修订版本（草稿），原版本保留")


@bp.route("/<int:review_id>/breakdown.png")
@login_required
def breakdown_chart(review_id: int):
    return _png(indicator_breakdown(get_review_or_404(review_id)))


@bp.route("/<int:review_id>/rates.png")
@login_required
def rates_chart(review_id: int):
    review = get_review_or_404(review_id)
    return _png(rates_with_intervals([review]))


@bp.route("/contracts/<int:contract_id>/trend.png")
@login_required
def trend_chart(contract_id: int):
    contract = get_contract_or_404(contract_id)
    return _png(score_trend(contract, service.contract_reviews(contract.id, published_only=not sees_draft_reviews())))


@bp.route("/contracts/<int:contract_id>/rates.png")
@login_required
def contract_rates_chart(contract_id: int):
    contract = get_contract_or_404(contract_id)
    return _png(rates_with_intervals(service.contract_reviews(contract.id, published_only=not sees_draft_reviews())))


def _quarter_compared() -> tuple[str, list[QuarterlyReview]]:
    """The quarter asked for (default: the last one) and every contract's current review of it."""
    text = request.args.get("quarter", "").strip() or str(quarter_of(county_today()).previous())
    try:
        quarter = str(Quarter.parse(text))
    except ValueError:
        abort(404)
    found = db.session.execute(service.current_reviews_query(published_only=False)
                               .where(QuarterlyReview.quarter == quarter)
                               .order_by(QuarterlyReview.total_centi.desc())).scalars().all()
    return quarter, found


@bp.route("/compare")
@permission_required(Action.READ_OVERSIGHT)
def compare():
    quarter, found = _quarter_compared()
    return render_template("reviews/compare.html", quarter=quarter, reviews=found)


@bp.route("/compare.png")
@permission_required(Action.READ_OVERSIGHT)
def compare_chart():
    return _png(contractors_side_by_side(_quarter_compared()[1]))
