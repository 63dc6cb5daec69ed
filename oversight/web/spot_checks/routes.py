import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...adapters.files import FileStoreError, uploads_store
from ...clock import county_today
from ...domain import self_care
from ...domain.money import format_yuan
from ...extensions import db
from ...domain.rectification import RectificationError
from ...models import DrawItem, SamplingDraw, SpotCheck
from ...policy import Action
from ...services import rectification
from ...services.appeals import appeal_of
from ...services.attachments import visible_attachment
from ...services.calendar import add_working_days
from ...services.draws import SPOT_CHECK
from ...services.rectification import RectificationRules
from ...services.spot_checks import (
    NOTICE_UNCLOSED,
    SpotCheckError,
    add_attachments,
    close_notice,
    issue_notice,
    item_check,
    notice_of,
    notice_overdue,
    notices_query,
    pending_items,
    record_spot_check,
    respond_notice,
)
from ..access import scope_to_counties, scope_to_own_contracts
from ..access import get_scoped_or_404
from ..access import contract_scope, get_notice_or_404, may, permission_required
from ..attachments_common import received, send_attachment
from ..params import paginate
from ..recheck_forms import RECHECK_FORMS
from ..forms_common import redirect_refused, redisplay, refill, send_back
from .forms import AttachmentForm, CloseForm, EscalationForm, NoticeForm, ResponseForm

bp = Blueprint("spot_checks", __name__, url_prefix="/spot-checks")



@bp.app_template_global()
def check_value(key: str, value) -> str:
    """A compared value as the pages show it: yuan, 能/不能, 是/否, items joined by 、."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("能" if value else "不能") if key in self_care.ITEM_LABELS else ("是" if value else "否")
    if key.endswith("_fen"):
        return f"{format_yuan(value)} 元"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(sorted(value)) or "—"
    return str(value)


def _spot_check_item_or_404(item_id: int) -> DrawItem:
    item = get_scoped_or_404(DrawItem, item_id)
    if item.draw.purpose != SPOT_CHECK:
        abort(404)
    return item


@bp.route("/")
@permission_required(Action.READ_OVERSIGHT)
def index():
    view = request.args.get("view", "mine" if may(Action.RECORD_SPOT_CHECKS) else "pending")
    if view == "done":
        page = paginate(scope_to_own_contracts(select(SpotCheck), SpotCheck.contract_id).order_by(SpotCheck.id.desc()))
    else:
        page = paginate(scope_to_counties(pending_items(current_user.id if view == "mine" else None),
                                          SamplingDraw.county_id))
    return render_template("spot_checks/index.html", view=view, page=page)


@bp.route("/items/<int:item_id>/recheck", methods=["GET", "POST"])
@permission_required(Action.RECORD_SPOT_CHECKS)
def recheck(item_id: int):
    item = _spot_check_item_or_404(item_id)
    done = item_check(item.id)
    if done is not None:
        flash("该记录已复检", "warning")
        return redirect(url_for(".detail", check_id=done.id))
    form = RECHECK_FORMS[item.draw.service_type]()
    if not form.is_submitted():
        form.checked_on.data = county_today()
    if form.validate_on_submit():
        try:
            check = record_spot_check(
                item, checker=current_user, method=form.method.data, checked_on=form.checked_on.data,
                values=form.values(), note=form.note.data, uploads=received(form.attachments.data),
                store=uploads_store(), today=county_today())
        except (SpotCheckError, FileStoreError) as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("复检已保存，以下是与上报记录的比对结果", "success")
            return redirect(url_for(".detail", check_id=check.id))
    return redirect_refused(form) or render_template("spot_checks/recheck.html", item=item, record=item.record, form=form)


@bp.route("/<int:check_id>")
@permission_required(Action.READ_OVERSIGHT)
def detail(check_id: int):
    check = get_scoped_or_404(SpotCheck, check_id)
    notice = notice_of(check)
    notice_form = None
    if not check.passed and notice is None:
        notice_form = NoticeForm()
        notice_form.deadline.data = add_working_days(check.contract.county_id, county_today(),
                                                     int(current_app.config["RECTIFICATION_NOTICE_DAYS"]))
        notice_form.requirement.data = f"{check.comparison['reason']}。请核实并更正该服务记录，说明原因及整改措施。"
        refill(notice_form)
    return render_template("spot_checks/detail.html", check=check, notice=notice, notice_form=notice_form,
                           attachment_form=AttachmentForm(), today=county_today(), appeal=appeal_of(check))


@bp.route("/<int:check_id>/attachments", methods=["POST"])
@permission_required(Action.RECORD_SPOT_CHECKS)
def attach(check_id: int):
    check = get_scoped_or_404(SpotCheck, check_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            saved = add_attachments(check, received(form.attachments.data), uploads_store(), current_user)
        except (SpotCheckError, FileStoreError) as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"已上传 {len(saved)} 个附件", "success")
    else:
        flash("请选择文件", "danger")
    return redirect(url_for(".detail", check_id=check.id))


@bp.route("/attachments/<int:attachment_id>")
@permission_required(Action.READ_OVERSIGHT)
def attachment(attachment_id: int):
    """A spot check's file (the address its pages have always linked; `attachments.download` serves all)."""
    found = visible_attachment(attachment_id, current_user)
    if found is None or found.owner_type != "spot_check":
        abort(404)
    return send_attachment(found)


@bp.route("/<int:check_id>/notice", methods=["POST"])
@permission_required(Action.ISSUE_NOTICES)
def notice(check_id: int):
    check = get_scoped_or_404(SpotCheck, check_id)
    form = NoticeForm()
    if form.validate_on_submit():
        try:
            issued = issue_notice(check, deadline=form.deadline.data, requirement=form.requirement.data,
                                  issuer=current_user, today=county_today())
        except SpotCheckError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已发出整改通知", "success")
            return redirect(url_for(".notice_detail", notice_id=issued.id))
        return redisplay(form, url_for(".detail", check_id=check.id)) or redirect(url_for(".detail", check_id=check.id))
    return send_back(form, url_for(".detail", check_id=check.id))


@bp.route("/notices/")
@login_required
def notices():
    status = request.args.get("status", "")
    escalated = request.args.get("escalated") == "1" and may(Action.READ_OVERSIGHT)
    only_overdue = request.args.get("overdue") == "1"
    today = county_today()
    stmt = rectification.escalated_notices() if escalated else notices_query(
        contract_scope(), status or None, today if only_overdue else None)
    page = paginate(stmt)
    return render_template("spot_checks/notices.html", page=page, status=status, escalated=escalated,
                           only_overdue=only_overdue, unclosed=NOTICE_UNCLOSED, today=today, overdue=notice_overdue)


@bp.route("/notices/<int:notice_id>")
@login_required
def notice_detail(notice_id: int):
    found = get_notice_or_404(notice_id)
    response_form = ResponseForm(obj=found) if may(Action.RESPOND_TO_NOTICES, found) else None
    close_form = CloseForm() if may(Action.CLOSE_NOTICES, found) else None
    escalation_form = EscalationForm() if may(Action.HANDLE_ESCALATIONS, found) else None
    for form in (response_form, close_form, escalation_form):
        if form is not None:
            refill(form)
    rules = RectificationRules.from_config(current_app.config)
    return render_template("spot_checks/notice.html", notice=found, check=found.spot_check,
                           response_form=response_form, close_form=close_form, escalation_form=escalation_form,
                           rounds=rectification.rounds_of(found), max_rounds=rules.max_rounds,
                           overdue=notice_overdue(found, county_today()))


@bp.route("/notices/<int:notice_id>/respond", methods=["POST"])
@permission_required(Action.RESPOND_TO_NOTICES)
def respond(notice_id: int):
    found = get_notice_or_404(notice_id)
    form = ResponseForm()
    if form.validate_on_submit():
        try:
            respond_notice(found, response=form.response.data, user=current_user,
                           uploads=received(form.attachments.data), store=uploads_store())
        except (SpotCheckError, FileStoreError) as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已提交整改情况", "success")
    else:
        return send_back(form, url_for(".notice_detail", notice_id=found.id))
    return redirect(url_for(".notice_detail", notice_id=found.id))


@bp.route("/notices/<int:notice_id>/close", methods=["POST"])
@permission_required(Action.CLOSE_NOTICES)
def close(notice_id: int):
    found = get_notice_or_404(notice_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            reissued = close_notice(found, outcome=form.outcome.data, note=form.closing_note.data,
                                    user=current_user, today=county_today(),
                                    reissue_deadline=form.reissue_deadline.data,
                                    rules=RectificationRules.from_config(current_app.config))
        except SpotCheckError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            if reissued is not None:
                flash(f"不予认可：已重新下发整改通知{reissued.number}（第{reissued.round}轮），期限 {reissued.deadline}",
                      "warning")
                return redirect(url_for(".notice_detail", notice_id=reissued.id))
            if found.escalated_at is not None:
                flash(f"第{found.round}轮整改仍不予认可：已提请管理员处理，并提出考核扣分建议", "warning")
            else:
                flash("整改通知已关闭", "success")
    else:
        return send_back(form, url_for(".notice_detail", notice_id=found.id))
    return redirect(url_for(".notice_detail", notice_id=found.id))


@bp.route("/notices/<int:notice_id>/escalation", methods=["POST"])
@permission_required(Action.HANDLE_ESCALATIONS)
def handle_escalation(notice_id: int):
    found = get_notice_or_404(notice_id)
    form = EscalationForm()
    if form.validate_on_submit():
        try:
            rectification.handle_escalation(found, current_user, form.escalation_note.data)
        except RectificationError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已记录处理意见", "success")
    else:
        return send_back(form, url_for(".notice_detail", notice_id=found.id))
    return redirect(url_for(".notice_detail", notice_id=found.id))


@bp.route("/notices/<int:notice_id>/document.<any(docx, pdf):kind>")
@login_required
def notice_document(notice_id: int, kind: str):
    """The printable 整改通知书 under the bureau's heading (BUREAU_NAME)."""
    from ...exports.notice_document import build_notice_document, to_docx, to_pdf
    from ...exports.ocds import buyer_name

    found = get_notice_or_404(notice_id)
    document = build_notice_document(found, buyer_name(found.year, found.contract.county_id))
    data = to_docx(document) if kind == "docx" else to_pdf(document)
    mimetype = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if kind == "docx"
                else "application/pdf")
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"整改通知书_{found.number}.{kind}")
