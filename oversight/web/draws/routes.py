
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import load_only, selectinload

from ...charts.sampling import oc_curve_png
from ...clock import county_today
from ...domain.periods import Quarter, quarter_of
from ...domain.vocabulary import DrawPurpose, ExportJobStatus
from ...extensions import db
from ...models import (
    Assignment,
    Callback,
    CompletionRecord,
    Contract,
    DrawItem,
    ExportJob,
    FieldWorker,
    SamplingDraw,
    SpotCheck,
    Subject,
    User,
)
from ...policy import Action, roles_for
from ...services.check_results import draw_estimates
from ...services.draw_jobs import jobs_of as draw_jobs_of
from ...services.draw_jobs import made_draws, request_draw, skipped_lines
from ...services.draws import MEDIA_AUDIT, SPOT_CHECK, DrawError, list_draws, recompute, strata_rows, verify_stored_draw
from ...services.page_jobs import unfinished
from ...tasks import export_later
from ...services.media_audit import MediaAuditError, drawn_media, review_counts, review_media
from ...services.spot_checks import SpotCheckError, assign_items
from ..access import visible_county_ids
from ..access import managed_area_ids, scope_to_counties
from ..access import get_scoped_or_404
from ..access import permission_required
from ..params import database_int, paginate
from .forms import AssignForm, DrawForm, MediaReviewForm

bp = Blueprint("draws", __name__, url_prefix="/draws")


def _draw_or_404(draw_id: int) -> SamplingDraw:
    return get_scoped_or_404(SamplingDraw, draw_id)


def _contracts() -> list[Contract]:
    return list(db.session.execute(scope_to_counties(select(Contract), Contract.county_id).order_by(Contract.code)).scalars())


def _checkers() -> list[User]:
    return list(db.session.execute(select(User).where(User.role.in_(roles_for(Action.RECORD_SPOT_CHECKS)), User.is_active_account.is_(True),
                                                      User.area_id.in_(managed_area_ids()))
                                   .order_by(User.display_name)).scalars())


@bp.route("/")
@permission_required(Action.READ_OVERSIGHT)
def index():
    filters = {key: request.args.get(key, "").strip() for key in ("quarter", "purpose")}
    contract_id = request.args.get("contract", type=database_int)
    stmt = list_draws(filters["quarter"] or None, contract_id, filters["purpose"] if filters["purpose"] in DrawPurpose.codes() else None)
    page = paginate(scope_to_counties(stmt, SamplingDraw.county_id))
    return render_template("draws/index.html", page=page, filters=filters, contract_id=contract_id,
                           contracts=_contracts())


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.DRAW_SAMPLES)
def create():
    form = DrawForm()
    form.contract_id.choices = [(0, "全部合同")] + [(c.id, f"{c.code} {c.title}") for c in _contracts()]
    if not form.is_submitted():
        form.quarter.data = str(quarter_of(county_today()).previous())
        form.purpose.data = request.args.get("purpose") if request.args.get("purpose") in DrawPurpose.codes() else None
    if form.validate_on_submit():
        try:
            job = request_draw(current_user._get_current_object(), form.purpose.data, Quarter.parse(form.quarter.data),
                               contract_id=form.contract_id.data or None, service_type=form.service_type.data or None,
                               risk_weighted=form.risk_weighted.data, seed=form.seed.data,
                               county_ids=visible_county_ids())
        except DrawError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            export_later(job.id)
            job = db.session.get(ExportJob, job.id, populate_existing=True)
            if job.status != ExportJobStatus.DONE:  # queued (or failed): its page tells and refreshes itself
                flash("抽样已提交，正在后台进行；完成后可在本页查看结果", "success")
                return redirect(url_for(".jobs"))
            # Done at once (a fast worker, or QUEUE_IMMEDIATE): as when the page drew inline.
            for line in skipped_lines(job):
                flash(line, "warning")
            made = made_draws(job)
            if len(made) == 1:
                flash("已完成抽样", "success")
                return redirect(url_for(".detail", draw_id=made[0].id))
            if made:
                flash(f"已完成 {len(made)} 项抽样", "success")
                return redirect(url_for(".index", quarter=form.quarter.data, purpose=form.purpose.data))
    return render_template("draws/form.html", form=form)


@bp.route("/jobs/")
@permission_required(Action.DRAW_SAMPLES)
def jobs():
    """The user's draws asked for on this page and made on the queue: 排队中 / 生成中 / 已完成 / 失败,
    refreshing itself while one is unfinished."""
    mine = draw_jobs_of(current_user._get_current_object())
    return render_template("draws/jobs.html", jobs=[(job, made_draws(job), skipped_lines(job)) for job in mine],
                           pending=any(unfinished(job) for job in mine), contracts={c.id: c for c in _contracts()})


def _rows(draw: SamplingDraw) -> list:
    """The drawn items with their record, worker and subject, in draw order; only the columns the
    page shows are read (a draw lists hundreds of records)."""
    return db.session.execute(
        select(DrawItem, CompletionRecord, FieldWorker, Subject)
        .join(CompletionRecord, DrawItem.record_id == CompletionRecord.id)
        .join(FieldWorker, CompletionRecord.worker_id == FieldWorker.id)
        .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .join(Subject, Assignment.subject_id == Subject.id)
        .options(load_only(CompletionRecord.service_date), load_only(Subject.name, Subject.id_number),
                 selectinload(DrawItem.assigned_to))
        .where(DrawItem.draw_id == draw.id).order_by(DrawItem.position)).all()


@bp.route("/<int:draw_id>")
@permission_required(Action.READ_OVERSIGHT)
def detail(draw_id: int):
    draw = _draw_or_404(draw_id)
    result = recompute(draw)
    checks = {check.draw_item_id: check for check in db.session.execute(
        select(SpotCheck).join(DrawItem, SpotCheck.draw_item_id == DrawItem.id).where(DrawItem.draw_id == draw.id)
        .options(load_only(SpotCheck.draw_item_id, SpotCheck.passed))).scalars()}
    callbacks = {callback.draw_item_id: callback for callback in db.session.execute(
        select(Callback).join(DrawItem, Callback.draw_item_id == DrawItem.id).where(DrawItem.draw_id == draw.id)
        .options(load_only(Callback.draw_item_id, Callback.status))).scalars()}
    form = AssignForm()
    form.assignee_id.choices = [(user.id, user.display_name) for user in _checkers()]
    estimates = draw_estimates(draw) if draw.purpose == SPOT_CHECK and checks else None
    media_counts = review_counts(draw.id) if draw.purpose == MEDIA_AUDIT else None
    return render_template("draws/detail.html", draw=draw, result=result, rows=_rows(draw), checks=checks,
                           callbacks=callbacks, strata=strata_rows(draw), form=form, estimates=estimates,
                           media_counts=media_counts)


@bp.route("/<int:draw_id>/oc.png")
@permission_required(Action.READ_OVERSIGHT)
def oc_chart(draw_id: int):
    plan = recompute(_draw_or_404(draw_id)).plan
    if plan is None or not plan.decides_lot:
        abort(404)
    return Response(oc_curve_png(plan), mimetype="image/png")


@bp.route("/<int:draw_id>/verify")
@permission_required(Action.READ_OVERSIGHT)
def verify(draw_id: int):
    check = verify_stored_draw(_draw_or_404(draw_id))
    return render_template("draws/verify.html", draw=check.draw, check=check)


@bp.route("/<int:draw_id>/assign", methods=["POST"])
@permission_required(Action.DRAW_SAMPLES)
def assign(draw_id: int):
    draw = _draw_or_404(draw_id)
    form = AssignForm()
    form.assignee_id.choices = [(user.id, user.display_name) for user in _checkers()]
    if not form.validate_on_submit():
        flash("请选择监管人员", "danger")
        return redirect(url_for(".detail", draw_id=draw.id))
    item_ids = [int(value) for value in request.form.getlist("item_id") if value.isdigit()]
    try:
        changed = assign_items(draw, item_ids, db.session.get(User, form.assignee_id.data))
    except SpotCheckError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(f"已分派 {changed} 条记录", "success")
    return redirect(url_for(".detail", draw_id=draw.id))


def _media_draw_or_404(draw_id: int) -> SamplingDraw:
    draw = _draw_or_404(draw_id)
    if draw.purpose != MEDIA_AUDIT:
        abort(404)
    return draw


@bp.route("/<int:draw_id>/media")
@permission_required(Action.READ_OVERSIGHT)
def media(draw_id: int):
    """影像核验: the drawn records' photos and signatures, each with its verdict or a form for one."""
    draw = _media_draw_or_404(draw_id)
    records = {record.id: (record, worker, subject) for _, record, worker, subject in _rows(draw)}
    return render_template("draws/media.html", draw=draw, listed=drawn_media(draw.id), records=records,
                           counts=review_counts(draw.id), form=MediaReviewForm())


@bp.route("/<int:draw_id>/media/<int:item_id>/<int:visit_media_id>", methods=["POST"])
@permission_required(Action.REVIEW_MEDIA)
def review(draw_id: int, item_id: int, visit_media_id: int):
    draw = _media_draw_or_404(draw_id)
    item = db.session.get(DrawItem, item_id)
    if item is None or item.draw_id != draw.id:
        abort(404)
    form = MediaReviewForm()
    if not form.validate_on_submit():
        flash("；".join(error for errors in form.errors.values() for error in errors) or "请选择核验结论", "danger")
        return redirect(url_for(".media", draw_id=draw.id))
    try:
        review_media(item, visit_media_id, form.verdict.data, form.reason.data, current_user._get_current_object())
    except MediaAuditError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash("已记录核验结论", "success")
    return redirect(url_for(".media", draw_id=draw.id, _anchor=f"media-{item.id}-{visit_media_id}"))
