from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ...extensions import db
from ...models import Callback, Complaint, Contract, DrawItem, SamplingDraw
from ...policy import Action
from ...services.callbacks import (
    COMPLAINT_UNCLOSED,
    CONNECTED,
    MAX_ATTEMPTS,
    SATISFACTION_LEVELS,
    CallbackError,
    close_complaint,
    complaints_query,
    file_complaint,
    record_answers,
    record_attempt,
    reveal_phone,
    worker_by_no,
)
from ...services.callbacks import (
    call_list as call_list_query,
)
from ...services.draws import CALLBACK
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import permission_required
from ..params import database_int, paginate
from ..forms_common import allow_one_view, one_view_allowed, redirect_refused, redisplay, refill
from .forms import AnswerForm, AttemptForm, ComplaintForm

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


@bp.route("/")
@permission_required(Action.READ_OVERSIGHT)
def index():
    draws = paginate(scope_to_counties(select(SamplingDraw), SamplingDraw.county_id).where(
        SamplingDraw.purpose == CALLBACK).order_by(SamplingDraw.id.desc()))
    counts: dict[int, dict[str, int]] = {}
    for draw_id, status, count in db.session.execute(
            select(DrawItem.draw_id, Callback.status, func.count())
            .join(DrawItem, Callback.draw_item_id == DrawItem.id)
            .where(DrawItem.draw_id.in_([draw.id for draw in draws.items]))
            .group_by(DrawItem.draw_id, Callback.status)):
        counts.setdefault(draw_id, {})[status] = count
    return render_template("callbacks/index.html", page=draws, counts=counts)


@bp.route("/draws/<int:draw_id>")
@permission_required(Action.READ_OVERSIGHT)
def call_list(draw_id: int):
    draw = get_scoped_or_404(SamplingDraw, draw_id)
    if draw.purpose != CALLBACK:
        return redirect(url_for("draws.detail", draw_id=draw.id))
    callbacks = db.session.execute(call_list_query(draw.id)).scalars().all()
    return render_template("callbacks/call_list.html", draw=draw, callbacks=callbacks,
                           levels=SATISFACTION_LEVELS)


def _detail(callback: Callback, phone: str | None = None, answer_form: AnswerForm | None = None):
    last = callback.attempts[-1].outcome if callback.attempts else None
    pending = callback.status == "pending"
    return render_template(
        "callbacks/detail.html", callback=callback, phone=phone, levels=SATISFACTION_LEVELS,
        attempt_form=AttemptForm() if pending and last != CONNECTED and len(callback.attempts) < MAX_ATTEMPTS else None,
        answer_form=(answer_form or AnswerForm()) if pending and last == CONNECTED else None,
        max_attempts=MAX_ATTEMPTS, bureau_name=current_app.config.get("BUREAU_NAME"))


@bp.route("/<int:callback_id>")
@permission_required(Action.READ_OVERSIGHT)
def detail(callback_id: int):
    callback = get_scoped_or_404(Callback, callback_id)
    answer_form = AnswerForm()
    refill(answer_form)
    phone = callback.subject.phone if one_view_allowed("Callback", callback.id) else None
    return _detail(callback, phone=phone, answer_form=answer_form)


@bp.route("/<int:callback_id>/reveal", methods=["POST"])
@permission_required(Action.REVEAL_PERSONAL_DATA)
def reveal(callback_id: int):
    """Show the full phone number for the call once; the view is audited (a reload shows it masked)."""
    callback = get_scoped_or_404(Callback, callback_id)
    reveal_phone(callback)
    db.session.commit()
    allow_one_view("Callback", callback.id)
    return redirect(url_for(".detail", callback_id=callback.id), code=303)


@bp.route("/<int:callback_id>/attempts", methods=["POST"])
@permission_required(Action.MAKE_CALLBACKS)
def attempt(callback_id: int):
    callback = get_scoped_or_404(Callback, callback_id)
    form = AttemptForm()
    if form.validate_on_submit():
        try:
            record_attempt(callback, form.outcome.data, current_user)
        except CallbackError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"已记录第 {len(callback.attempts)} 次拨打：{form.outcome.data}", "success")
    return redirect(url_for(".detail", callback_id=callback.id))


@bp.route("/<int:callback_id>/answers", methods=["POST"])
@permission_required(Action.MAKE_CALLBACKS)
def answers(callback_id: int):
    callback = get_scoped_or_404(Callback, callback_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash("回访结果未保存：请按对方的回答逐项选择", "danger")
        return redisplay(form, url_for(".detail", callback_id=callback.id)) or _detail(callback, answer_form=form)
    try:
        complaint = record_answers(callback, confirmed=form.confirmed.data == "1",
                                   satisfaction=int(form.satisfaction.data), attitude=form.attitude.data or None,
                                   complaint=form.complaint.data, operator=current_user,
                                   answered_by=form.answered_by.data)
    except CallbackError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash("回访结果已保存", "success")
        if complaint is not None:
            flash(f"已生成投诉事项 #{complaint.id}，被投诉人员的近期记录将纳入下次抽查", "warning")
    return redirect(url_for(".detail", callback_id=callback.id))


@bp.route("/complaints/")
@permission_required(Action.READ_OVERSIGHT)
def complaints():
    status = request.args.get("status", "")
    page = paginate(complaints_query(status or None, request.args.get("contract", type=database_int)))
    return render_template("callbacks/complaints.html", page=page, status=status, unclosed=COMPLAINT_UNCLOSED)


@bp.route("/complaints/new", methods=["GET", "POST"])
@permission_required(Action.HANDLE_COMPLAINTS)
def new_complaint():
    form = ComplaintForm()
    form.contract_id.choices = [(c.id, f"{c.code} {c.title}") for c in
                                db.session.execute(
                                    scope_to_counties(select(Contract), Contract.county_id).order_by(Contract.code)).scalars()]
    if form.validate_on_submit():
        contract = get_scoped_or_404(Contract, form.contract_id.data)
        try:
            worker_id = worker_by_no(contract, form.worker_no.data).id if form.worker_no.data else None
            file_complaint(contract, text=form.text.data, user=current_user, record_id=form.record_id.data,
                           worker_id=worker_id)
        except CallbackError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已登记投诉，相关记录将纳入下次抽查的定向分层", "success")
            return redirect(url_for(".complaints"))
    return redirect_refused(form) or render_template("callbacks/complaint_form.html", form=form)


@bp.route("/complaints/<int:complaint_id>/close", methods=["POST"])
@permission_required(Action.HANDLE_COMPLAINTS)
def close(complaint_id: int):
    complaint = get_scoped_or_404(Complaint, complaint_id)
    try:
        close_complaint(complaint)
    except CallbackError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash("投诉已关闭", "success")
    return redirect(url_for(".complaints"))
