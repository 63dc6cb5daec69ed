"""Annual evaluations: compute from the approved quarters, annual items, payments, approve and lock."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today
from ...domain.evaluation import EvaluationError
from ...domain import review_steps
from ...extensions import db
from ...models import AnnualEvaluation, Contract
from ...policy import Action, may
from ...services import evaluations as service
from ...services.reviews import ReviewError
from ..access import (
    get_contract_or_404,
    get_evaluation_or_404,
    permission_required,
    scope_to_own_contracts,
    sees_unapproved_evaluations,
    visible_evaluations,
)
from ..forms_common import CorrectForm, refill, refilled
from ..params import paginate
from ..workflow import refuse_form, run_step
from .forms import AnnualItemForm, EvaluateForm, EvaluationCommentForm, EvaluationSettleForm, PaymentForm

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")


def _contracts() -> list[Contract]:
    stmt = scope_to_own_contracts(select(Contract).order_by(Contract.code), Contract.id)
    return db.session.execute(stmt).scalars().all()


@bp.route("/")
@login_required
def index():
    stmt = scope_to_own_contracts(service.current_evaluations_query(published_only=not sees_unapproved_evaluations()),
                                  AnnualEvaluation.contract_id)
    page = paginate(stmt.order_by(AnnualEvaluation.year.desc(), AnnualEvaluation.contract_id))
    form = EvaluateForm(year=county_today().year - (county_today().month < 4))
    form.contract_id.choices = [(c.id, f"{c.code} {c.title}") for c in _contracts()]
    refill(form)
    return render_template("evaluations/index.html", page=page, form=form)


@bp.route("/compute", methods=["POST"])
@permission_required(Action.SCORE_EVALUATIONS)
def compute():
    form = EvaluateForm()
    form.contract_id.choices = [(c.id, c.code) for c in _contracts()]
    if not form.validate_on_submit():
        return refuse_form(form, ".index")
    contract = get_contract_or_404(form.contract_id.data)
    try:
        evaluation = service.compute_evaluation(contract, form.year.data, current_user)
    except (EvaluationError, ReviewError) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(f"已计算 {contract.code} {form.year.data} 年度评价草稿", "success")
    return redirect(url_for(".detail", evaluation_id=evaluation.id))


@bp.route("/<int:evaluation_id>")
@login_required
def detail(evaluation_id: int):
    evaluation = get_evaluation_or_404(evaluation_id)
    history = visible_evaluations(service.evaluation_revisions(evaluation.contract_id, evaluation.year))
    today = county_today()
    staleness = (service.evaluation_freshness(evaluation)
                 if may(current_user, Action.READ_OVERSIGHT) and not evaluation.locked else None)
    approving = may(current_user, Action.APPROVE_EVALUATIONS) and not evaluation.locked
    return render_template(
        "evaluations/detail.html", evaluation=evaluation, figures=evaluation.figures,
        history=history, payments=service.contract_payments(evaluation.contract_id),
        fixed_paid=service.paid_fen(evaluation.contract_id, "fixed"),
        item_form=refilled(AnnualItemForm()), payment_form=refilled(PaymentForm(year=evaluation.year)),
        correct_form=refilled(CorrectForm()), comment_form=refilled(EvaluationCommentForm()),
        settle_form=refilled(EvaluationSettleForm()), final=service.payment_final(evaluation),
        window_open=review_steps.window_open(evaluation, today),
        approval_refusal=service.approval_refusal(evaluation, current_user, today, staleness) if approving else None,
        duty_blocker=service.duty_blocker(evaluation, current_user), staleness=staleness,
    )


def _act(evaluation_id: int, action, success: str):
    return run_step(get_evaluation_or_404(evaluation_id), action, success, ".detail", "evaluation_id")


def _refuse(form, evaluation_id: int):
    return refuse_form(form, ".detail", evaluation_id=evaluation_id)


@bp.route("/<int:evaluation_id>/refresh", methods=["POST"])
@permission_required(Action.SCORE_EVALUATIONS)
def refresh(evaluation_id: int):
    return _act(evaluation_id, lambda e: service.compute_evaluation(e.contract, e.year, current_user), "已重新计算")


@bp.route("/<int:evaluation_id>/items", methods=["POST"])
@permission_required(Action.SCORE_EVALUATIONS)
def add_item(evaluation_id: int):
    form = AnnualItemForm()
    if not form.validate_on_submit():
        return _refuse(form, evaluation_id)
    return _act(evaluation_id, lambda e: service.add_annual_item(e, form.points.data, form.reason.data),
                "已添加年度加减分")


@bp.route("/<int:evaluation_id>/items/<int:index>/delete", methods=["POST"])
@permission_required(Action.SCORE_EVALUATIONS)
def remove_item(evaluation_id: int, index: int):
    return _act(evaluation_id, lambda e: service.remove_annual_item(e, index), "已删除年度加减分")


@bp.route("/<int:evaluation_id>/payments", methods=["POST"])
@permission_required(Action.RECORD_PAYMENTS)
def add_payment(evaluation_id: int):
    form = PaymentForm()
    if not form.validate_on_submit():
        return _refuse(form, evaluation_id)

    def run(evaluation):
        service.record_payment(evaluation.contract, form.paid_on.data, form.amount_fen.data, form.kind.data,
                               form.year.data, form.note.data)
        if evaluation.status == "draft":  # the remaining amounts follow; the drafter stays who it was
            service.compute_evaluation(evaluation.contract, evaluation.year, evaluation.computed_by)

    return _act(evaluation_id, run, "已登记付款")


@bp.route("/<int:evaluation_id>/approve", methods=["POST"])
@permission_required(Action.APPROVE_EVALUATIONS)
def approve(evaluation_id: int):
    return _act(evaluation_id, lambda e: service.approve_evaluation(e, current_user, county_today()),
                "已审定并锁定年度评价")


@bp.route("/<int:evaluation_id>/publish", methods=["POST"])
@permission_required(Action.SCORE_EVALUATIONS)
def publish(evaluation_id: int):
    days = current_app.config["EVALUATION_COMMENT_DAYS"]
    return _act(evaluation_id, lambda e: service.publish_evaluation(e, county_today(), days),
                "已发布给承接机构，意见期开始")


@bp.route("/<int:evaluation_id>/comment", methods=["POST"])
@permission_required(Action.COMMENT_ON_EVALUATIONS)
def comment(evaluation_id: int):
    form = EvaluationCommentForm()
    if not form.validate_on_submit():
        return _refuse(form, evaluation_id)
    return _act(evaluation_id, lambda e: service.comment_evaluation(e, current_user, form.position.data,
                                                                    form.comment.data, county_today()), "已提交意见")


@bp.route("/<int:evaluation_id>/settle", methods=["POST"])
@permission_required(Action.SETTLE_EVALUATIONS)
def settle(evaluation_id: int):
    form = EvaluationSettleForm()
    if not form.validate_on_submit():
        return _refuse(form, evaluation_id)
    return _act(evaluation_id, lambda e: service.settle_evaluation(e, current_user, form.decision.data,
                                                                   form.adjustment.data), "已裁定")


@bp.route("/<int:evaluation_id>/correct", methods=["POST"])
@permission_required(Action.CORRECT_EVALUATIONS)
def correct(evaluation_id: int):
    form = CorrectForm()
    if not form.validate_on_submit():
        return _refuse(form, evaluation_id)
    return _act(evaluation_id, lambda e: service.correct_evaluation(e, form.reason.data, current_user),
                "已新建修订版本（草稿），原版本保留")
