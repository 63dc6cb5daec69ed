"""采购项目: set up a tender, take its bids, the committee's score sheets, the ranking, the award.

Bureau staff work here and auditors read; no contractor sees any page (a bid is the bureau's:
403 for the role, whatever the project).
"""
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import policy
from ...clock import county_today
from ...domain.attachments import AttachmentRefused
from ...domain.tender_evaluation import EvaluationRefused, shown
from ...domain.vocabulary import ServiceType, TenderStatus
from ...extensions import db
from ...models import Contractor, ProcurementProject, TenderEvaluator, TenderScoringItem
from ...policy import Action
from ...services import procurement as svc
from ...services.procurement import ProcurementError
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import county_for_new_row, permission_required
from ..attachments_common import received
from ..forms_common import redirect_refused, refilled, send_back
from ..params import paginate
from .forms import (
    AwardForm,
    BidForm,
    CancelForm,
    DayForm,
    DocumentsForm,
    EvaluatorForm,
    ItemForm,
    ProjectForm,
    SheetForm,
    TieForm,
)

bp = Blueprint("procurement", __name__, url_prefix="/procurement")


def _project_or_404(project_id: int) -> ProcurementProject:
    return get_scoped_or_404(ProcurementProject, project_id)


def _step_or_403(action: Action, project: ProcurementProject) -> None:
    """The role may take the step (else 403); the project's state is the service's to refuse."""
    if not policy.may(current_user, action):
        abort(403)


def _to_project(project: ProcurementProject, anchor: str | None = None):
    return redirect(url_for(".detail", project_id=project.id, _anchor=anchor), code=303)


@bp.route("/")
@permission_required(Action.READ_PROCUREMENT)
def index():
    stmt = scope_to_counties(select(ProcurementProject), ProcurementProject.county_id).order_by(
        ProcurementProject.id.desc())
    return render_template("procurement/index.html", page=paginate(stmt))


# --- the project --------------------------------------------------------------------------------


def _lines(form: ProjectForm) -> dict[str, tuple[int, int]]:
    return {service_type: (target, form.care_visits_per_month.data or 1 if service_type == "care_visit" else 1)
            for service_type in ServiceType if (target := getattr(form, f"{service_type}_target").data or 0) > 0}


def _fill(form: ProjectForm, project: ProcurementProject) -> None:
    form.price_points.data = svc.points_of(project.price_points_centi)
    form.performance_share.data = Decimal(project.performance_share_bp) / 100
    for line in project.lines:
        getattr(form, f"{line.service_type}_target").data = line.annual_target
        if line.service_type == "care_visit":
            form.care_visits_per_month.data = line.visits_per_month


def _edit(project: ProcurementProject | None):
    form = ProjectForm(obj=project)
    if project is not None and not form.is_submitted():
        _fill(form, project)
    if form.validate_on_submit():
        try:
            saved = svc.save_project(
                project, lines=_lines(form), code=form.code.data.strip(), title=form.title.data.strip(),
                budget_line=form.budget_line.data.strip(), budget_fen=form.budget_fen.data,
                procurement_method=form.procurement_method.data, price_points=form.price_points.data,
                term_start=form.term_start.data, term_end=form.term_end.data,
                performance_share_bp=int(form.performance_share.data * 100), user=current_user,
                announced_on=project.announced_on if project else None,
                bid_opening_on=project.bid_opening_on if project else None,
                county_id=None if project else county_for_new_row())
        except ProcurementError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("已保存采购项目", "success")
            return _to_project(saved)
    return redirect_refused(form) or render_template("procurement/form.html", form=form, project=project)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def create():
    return _edit(None)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def edit(project_id: int):
    project = _project_or_404(project_id)
    if not policy.may(current_user, Action.MANAGE_PROCUREMENT, project):
        flash("项目已开标，不能再修改项目内容", "warning")
        return _to_project(project)
    return _edit(project)


@bp.route("/<int:project_id>")
@permission_required(Action.READ_PROCUREMENT)
def detail(project_id: int):
    project = _project_or_404(project_id)
    bid_form = refilled(BidForm())
    bid_form.contractor_id.choices = [(0, "（新机构，填写下方各项）")] + [
        (c.id, c.name) for c in db.session.execute(
            scope_to_counties(select(Contractor), Contractor.county_id).order_by(Contractor.name)).scalars()]
    filled = {member.id: len(svc.sheet_of(project, member)) for member in project.evaluators}
    cells = len([bid for bid in project.bids if bid.valid]) * len(project.items)
    return render_template(
        "procurement/detail.html", project=project, bid_form=bid_form, item_form=refilled(ItemForm()),
        evaluator_form=refilled(EvaluatorForm()), day_form=refilled(DayForm()), cancel_form=refilled(CancelForm()),
        documents_form=DocumentsForm(), filled=filled, cells=cells, points_of=svc.points_of)


def _posted_step(project_id: int, action: Action, form_class, step, done: str, anchor: str | None = None):
    """A form posted from the project page: refused input goes back to it, kept as typed."""
    project = _project_or_404(project_id)
    _step_or_403(action, project)
    form = form_class()
    back = url_for(".detail", project_id=project.id)
    if not form.validate_on_submit():
        return send_back(form, back)
    try:
        step(project, form)
    except (ProcurementError, AttachmentRefused) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect_refused(form, back) or _to_project(project, anchor)
    db.session.commit()
    flash(done, "success")
    return _to_project(project, anchor)


@bp.route("/<int:project_id>/announce", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def announce(project_id: int):
    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, DayForm,
                        lambda project, form: svc.announce(project, form.day.data), "已发布采购公告")


@bp.route("/<int:project_id>/open", methods=["POST"])
@permission_required(Action.RECORD_BIDS)
def open_bids(project_id: int):
    return _posted_step(project_id, Action.RECORD_BIDS, DayForm,
                        lambda project, form: svc.open_bids(project, form.day.data), "已开标，评委可录入评分")


@bp.route("/<int:project_id>/cancel", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def cancel(project_id: int):
    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, CancelForm,
                        lambda project, form: svc.cancel(project, form.reason.data.strip()), "已终止本次采购")


@bp.route("/<int:project_id>/documents", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def documents(project_id: int):
    def attach(project, form):
        uploads = received(form.attachments.data)
        if not uploads:
            raise ProcurementError("请选择要上传的文件")
        svc.attach_documents(project, uploads, current_user)

    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, DocumentsForm, attach, "已上传采购文件", "documents")


@bp.route("/<int:project_id>/items", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def add_item(project_id: int):
    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, ItemForm, lambda project, form: svc.add_item(
        project, name=form.name.data.strip(), max_points=form.max_points.data, technical=form.technical.data,
        past_performance=form.past_performance.data),
        "已添加评分项", "method")


@bp.route("/<int:project_id>/items/<int:scoring_item_id>/delete", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def remove_item(project_id: int, scoring_item_id: int):
    def remove(project, form):
        item = db.session.get(TenderScoringItem, scoring_item_id)
        if item is None or item.project_id != project.id:
            abort(404)
        svc.remove_item(project, item)

    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, SheetForm, remove, "已删除评分项", "method")


@bp.route("/<int:project_id>/evaluators", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def add_evaluator(project_id: int):
    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, EvaluatorForm,
                        lambda project, form: svc.add_evaluator(project, form.name.data.strip()),
                        "已添加评标委员会成员", "committee")


@bp.route("/<int:project_id>/evaluators/<int:evaluator_id>/delete", methods=["POST"])
@permission_required(Action.MANAGE_PROCUREMENT)
def remove_evaluator(project_id: int, evaluator_id: int):
    def remove(project, form):
        svc.remove_evaluator(project, _member_or_404(project, evaluator_id))

    return _posted_step(project_id, Action.MANAGE_PROCUREMENT, SheetForm, remove, "已删除评标委员会成员", "committee")


@bp.route("/<int:project_id>/bids", methods=["POST"])
@permission_required(Action.RECORD_BIDS)
def add_bid(project_id: int):
    project = _project_or_404(project_id)
    form = BidForm()
    form.contractor_id.choices = [(0, "")] + [(c.id, c.name) for c in db.session.execute(
        select(Contractor).where(Contractor.county_id == project.county_id).order_by(Contractor.name)).scalars()]
    back = url_for(".detail", project_id=project.id)
    if form.validate_on_submit():
        try:
            if form.contractor_id.data:
                contractor = db.session.get(Contractor, form.contractor_id.data)
            else:
                missing = [field.label.text for field in (form.name, form.credit_code, form.contact_person,
                                                          form.contact_phone) if not (field.data or "").strip()]
                if missing:
                    raise ProcurementError("选择已登记的投标人，或填写新机构的" + "、".join(missing))
                contractor = svc.new_bidder(project, name=form.name.data.strip(), credit_code=form.credit_code.data,
                                            contact_person=form.contact_person.data.strip(),
                                            contact_phone=form.contact_phone.data)
            svc.record_bid(project, contractor, price_fen=form.price_fen.data, valid=not form.invalid.data,
                           invalid_reason=form.invalid_reason.data)
        except ProcurementError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"已登记 {contractor.name} 的投标", "success")
            return _to_project(project, "bids")
    return send_back(form, back)


# --- the committee's sheets ---------------------------------------------------------------------


def _member_or_404(project: ProcurementProject, evaluator_id: int) -> TenderEvaluator:
    member = db.session.get(TenderEvaluator, evaluator_id)
    if member is None or member.project_id != project.id:
        abort(404)
    return member


def _cell(bid_id: int, item_id: int) -> str:
    return f"s-{bid_id}-{item_id}"


@bp.route("/<int:project_id>/sheets/<int:evaluator_id>", methods=["GET", "POST"])
@permission_required(Action.READ_PROCUREMENT)
def sheet(project_id: int, evaluator_id: int):
    project = _project_or_404(project_id)
    member = _member_or_404(project, evaluator_id)
    form = SheetForm()
    bids = [bid for bid in project.bids if bid.valid]
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if form.is_submitted():
        _step_or_403(Action.ENTER_TENDER_SCORES, project)
    if form.validate_on_submit():
        points: dict[tuple[int, int], Decimal | None] = {}
        for bid in bids:
            for item in project.items:
                name = _cell(bid.id, item.id)
                text = (request.form.get(name) or "").strip()
                typed[name] = text
                try:
                    points[(bid.id, item.id)] = Decimal(text) if text else None
                except InvalidOperation:
                    errors[name] = f"{bid.contractor.name}的“{item.name}”：“{text}”不是分数"
        if not errors:
            try:
                svc.save_sheet(project, member, points, current_user)
            except ProcurementError as error:
                db.session.rollback()
                errors["sheet"] = str(error)
            else:
                db.session.commit()
                flash(f"已保存 {member.name} 的评分", "success")
                return redirect(url_for(".sheet", project_id=project.id, evaluator_id=member.id), code=303)
        for message in errors.values():
            flash(message, "danger")
    stored = svc.sheet_of(project, member)
    history = svc.past_performance_points(project, county_today())
    values = {_cell(b, i): f"{points.normalize():f}" for (b, i), points in history.items() if points is not None}
    values.update({_cell(b, i): f"{points.normalize():f}" for (b, i), points in stored.items()})
    values.update(typed)
    return render_template("procurement/sheet.html", project=project, member=member, form=form, bids=bids,
                           values=values, cell=_cell, points_of=svc.points_of, errors=errors,
                           history={_cell(b, i): points for (b, i), points in history.items()},
                           saved={_cell(b, i) for b, i in stored})


# --- ranking, tie decision, evaluation, award ---------------------------------------------------


@bp.route("/<int:project_id>/ranking")
@permission_required(Action.READ_PROCUREMENT)
def ranking(project_id: int):
    project = _project_or_404(project_id)
    result, refused = None, None
    if project.status in (TenderStatus.OPENED, TenderStatus.EVALUATED, TenderStatus.AWARDED):
        try:
            result = svc.compute(project)
        except EvaluationRefused as error:
            refused = str(error)
    award_form = refilled(AwardForm())
    if not award_form.contract_code.data:
        award_form.contract_code.data = f"{project.code}-HT"
        award_form.contract_title.data = project.title
    bids = {str(bid.id): bid for bid in project.bids}
    return render_template("procurement/ranking.html", project=project, result=result, refused=refused,
                           bids=bids, shown=shown, tie_form=refilled(TieForm()), award_form=award_form,
                           recommended=svc.recommended_bid(project), points_of=svc.points_of)


def _to_ranking(project: ProcurementProject):
    return redirect(url_for(".ranking", project_id=project.id), code=303)


@bp.route("/<int:project_id>/tie", methods=["POST"])
@permission_required(Action.ENTER_TENDER_SCORES)
def tie(project_id: int):
    project = _project_or_404(project_id)
    form = TieForm()
    back = url_for(".ranking", project_id=project.id)
    if not form.validate_on_submit():
        return send_back(form, back)
    numbers = {index: bid.id for index, bid in enumerate(project.bids, start=1)}
    try:
        order = [numbers[int(part)] for part in form.order.data.replace("，", ",").split(",") if part.strip()]
    except (ValueError, KeyError):
        form.order.errors = ["请按投标序号填写，如：2,1"]
        return send_back(form, back)
    try:
        svc.record_tie_decision(project, order, form.note.data)
    except ProcurementError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return send_back(form, back)
    db.session.commit()
    flash("已记录抽签结果", "success")
    return _to_ranking(project)


@bp.route("/<int:project_id>/evaluate", methods=["POST"])
@permission_required(Action.EVALUATE_TENDERS)
def evaluate(project_id: int):
    project = _project_or_404(project_id)
    if not SheetForm().validate_on_submit():
        abort(400)
    try:
        svc.record_evaluation(project, current_user)
    except ProcurementError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _to_ranking(project)
    db.session.commit()
    flash("已记录评审结果，待定标", "success")
    return _to_ranking(project)


@bp.route("/<int:project_id>/award", methods=["POST"])
@permission_required(Action.AWARD_TENDERS)
def award(project_id: int):
    project = _project_or_404(project_id)
    form = AwardForm()
    back = url_for(".ranking", project_id=project.id)
    if not form.validate_on_submit():
        return send_back(form, back)
    try:
        contract = svc.award(project, contract_code=form.contract_code.data.strip(),
                             contract_title=form.contract_title.data.strip(), day=form.day.data)
    except ProcurementError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return send_back(form, back)
    db.session.commit()
    flash(f"已定标，生成合同 {contract.code}", "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id), code=303)
