"""Appeals (申诉): a contractor appeals a failed spot check; a supervisor other than its checker
orders a second re-check if needed and decides."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today
from ...adapters.files import FileStoreError
from ...domain.appeals import AppealRefused
from ...domain.attachments import AttachmentRefused
from ...domain.vocabulary import AppealStatus
from ... import policy
from ...extensions import db
from ...models import Appeal, SpotCheck, User
from ...services import appeals as service
from ...services.attachments import attach_all, may_attach
from ...policy import Action
from ...services.spot_checks import notice_of
from ..access import county_of, require_county_visible
from ..access import contract_scope, may, own_contract_ids, permission_required
from ..attachments_common import received
from ..params import paginate
from ..forms_common import redirect_refused, refill, send_back
from .forms import APPEAL_RECHECK_FORMS, AppealForm, DecideForm, EvidenceForm, OrderRecheckForm

bp = Blueprint("appeals", __name__, url_prefix="/appeals")


@bp.app_template_global()
def final_verdict_of(check: SpotCheck):
    """A spot check's verdict as the KPI counts it, for the pages that list checks."""
    return service.final_verdict_of(check)


def _window_days() -> int:
    return int(current_app.config["APPEAL_DAYS"])


def _own_check_or_404(check_id: int) -> SpotCheck:
    """A failed spot check of one of the contractor's own contracts (else 404)."""
    check = db.session.get(SpotCheck, check_id)
    if check is None or not may(Action.APPEAL_SPOT_CHECKS, check):
        abort(404)
    require_county_visible(county_of(check))
    return check


def _appeal_or_404(appeal_id: int) -> Appeal:
    """An appeal the user may see: a contractor only its own contracts' (else 404)."""
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or not policy.owns(current_user, appeal.contract.contractor_id):
        abort(404)
    require_county_visible(appeal.contract.county_id)
    return appeal


@bp.route("/")
@login_required
def index():
    status = request.args.get("status", "")
    page = paginate(service.appeals_query(contract_scope(), status if status in AppealStatus.codes() else None))
    appealable = []
    if may(Action.APPEAL_SPOT_CHECKS):
        today, days = county_today(), _window_days()
        appealed = set(db.session.execute(select(Appeal.spot_check_id).where(
            Appeal.contract_id.in_(own_contract_ids()))).scalars())
        for check in db.session.execute(service.appealable_checks(own_contract_ids()).limit(200)).scalars():
            closes = service.appeal_window_closes(check, days)
            if check.id not in appealed and today <= closes:
                appealable.append((check, closes))
    return render_template("appeals/index.html", page=page, status=status, appealable=appealable)


@bp.route("/checks/<int:check_id>/new", methods=["GET", "POST"])
@permission_required(Action.APPEAL_SPOT_CHECKS)
def new(check_id: int):
    check = _own_check_or_404(check_id)
    existing = service.appeal_of(check)
    if existing is not None:
        return redirect(url_for(".detail", appeal_id=existing.id))
    form = AppealForm()
    if form.validate_on_submit():
        try:
            appeal = service.file_appeal(check, current_user, form.reason.data, county_today(), _window_days(),
                                         received(form.attachments.data))
        except (AppealRefused, AttachmentRefused, FileStoreError) as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已提交申诉，将由原复检人以外的监管人员裁决", "success")
            return redirect(url_for(".detail", appeal_id=appeal.id))
    return redirect_refused(form) or render_template("appeals/new.html", check=check, form=form, notice=notice_of(check),
                           closes=service.appeal_window_closes(check, _window_days()), today=county_today())


def _rechecker_choices(appeal: Appeal) -> list[tuple[int, str]]:
    users = db.session.execute(select(User).where(
        User.role.in_(policy.roles_for(Action.RECHECK_APPEALS)), User.is_active_account.is_(True), User.id != appeal.spot_check.checker_id)
        .order_by(User.display_name, User.id)).scalars()
    return [(user.id, user.display_name) for user in users]


@bp.route("/<int:appeal_id>")
@login_required
def detail(appeal_id: int):
    appeal = _appeal_or_404(appeal_id)
    staff = may(Action.DECIDE_APPEALS)
    blocker = service.may_decide(appeal, current_user) if staff else None
    order_form = recheck_form = decide_form = None
    if may(Action.DECIDE_APPEALS, appeal):
        if appeal.status == "filed":
            order_form = OrderRecheckForm()
            order_form.assignee_id.choices = _rechecker_choices(appeal)
        if appeal.status in ("filed", "rechecked"):
            decide_form = DecideForm()
    if may(Action.RECHECK_APPEALS, appeal):
        recheck_form = APPEAL_RECHECK_FORMS[appeal.spot_check.record.service_type]()
        recheck_form.checked_on.data = county_today()
    evidence_form = EvidenceForm() if may_attach(appeal, current_user) else None
    for form in (order_form, recheck_form, decide_form):
        if form is not None:
            refill(form)
    return render_template("appeals/detail.html", appeal=appeal, check=appeal.spot_check, staff=staff,
                           blocker=blocker, order_form=order_form, recheck_form=recheck_form,
                           decide_form=decide_form, notice=notice_of(appeal.spot_check), evidence_form=evidence_form)


@bp.route("/<int:appeal_id>/attachments", methods=["POST"])
@login_required
def add_evidence(appeal_id: int):
    appeal = _appeal_or_404(appeal_id)
    form = EvidenceForm()
    if not form.validate_on_submit() or not form.attachments.data or not any(f.filename for f in form.attachments.data):
        flash("请选择文件", "danger")
        return redirect(url_for(".detail", appeal_id=appeal.id))
    try:
        saved = attach_all(appeal, received(form.attachments.data), current_user)
    except (AttachmentRefused, FileStoreError) as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(f"已上传 {len(saved)} 个附件", "success")
    return redirect(url_for(".detail", appeal_id=appeal.id))


def _step(appeal_id: int, action, success: str):
    appeal = _appeal_or_404(appeal_id)
    try:
        action(appeal)
    except AppealRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".detail", appeal_id=appeal.id))


@bp.route("/<int:appeal_id>/order-recheck", methods=["POST"])
@permission_required(Action.DECIDE_APPEALS)
def order_recheck(appeal_id: int):
    form = OrderRecheckForm()
    form.assignee_id.choices = [(user_id, "") for user_id in db.session.execute(select(User.id)).scalars()]
    if not form.validate_on_submit():
        return send_back(form, url_for(".detail", appeal_id=appeal_id))
    assignee = db.session.get(User, form.assignee_id.data)
    return _step(appeal_id, lambda appeal: service.order_recheck(appeal, current_user, assignee), "已安排复核")


@bp.route("/<int:appeal_id>/recheck", methods=["POST"])
@permission_required(Action.RECHECK_APPEALS)
def recheck(appeal_id: int):
    appeal = _appeal_or_404(appeal_id)
    form = APPEAL_RECHECK_FORMS[appeal.spot_check.record.service_type]()
    if not form.validate_on_submit():
        return send_back(form, url_for(".detail", appeal_id=appeal_id))
    return _step(appeal_id, lambda appeal: service.record_recheck(
        appeal, current_user, method=form.method.data, checked_on=form.checked_on.data, values=form.values(),
        note=form.note.data, today=county_today()), "已录入复核结果")


@bp.route("/<int:appeal_id>/decide", methods=["POST"])
@permission_required(Action.DECIDE_APPEALS)
def decide(appeal_id: int):
    form = DecideForm()
    if not form.validate_on_submit():
        return send_back(form, url_for(".detail", appeal_id=appeal_id))
    return _step(appeal_id, lambda appeal: service.decide_appeal(appeal, current_user, form.decision.data,
                                                                 form.reason.data), "已裁决")
