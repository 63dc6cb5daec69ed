"""履约验收 pages: staff open a contract's year, name the team and conclude; every signed-in user
sees the concluded acceptances of the contracts it may see (a contractor its own) and their 验收书."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today
from ...domain.acceptance import AcceptanceError
from ...exports import acceptance_document
from ...exports.ocds import buyer_name
from ...extensions import db
from ...models import Contract, ContractAcceptance
from ...policy import Action, is_contractor, owns
from ...services import acceptances as service
from ..access import require_county_visible
from ..access import get_contract_or_404, permission_required, scope_to_own_contracts
from ..forms_common import refill, refilled
from ..workflow import refuse_form
from .forms import ConcludeForm, MemberForm, OpenAcceptanceForm

bp = Blueprint("acceptance", __name__, url_prefix="/acceptance")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _contracts() -> list[Contract]:
    return db.session.execute(scope_to_own_contracts(select(Contract).order_by(Contract.code),
                                                     Contract.id)).scalars().all()


def _acceptance_or_404(acceptance_id: int) -> ContractAcceptance:
    """A contractor sees its own contracts' concluded acceptances only; anything else is 404."""
    acceptance = db.session.get(ContractAcceptance, acceptance_id)
    if acceptance is None or not owns(current_user, acceptance.contract.contractor_id):
        abort(404)
    require_county_visible(acceptance.contract.county_id)
    if is_contractor(current_user) and not acceptance.concluded:
        abort(404)
    return acceptance


@bp.route("/")
@login_required
def index():
    stmt = scope_to_own_contracts(select(ContractAcceptance), ContractAcceptance.contract_id)
    if is_contractor(current_user):
        stmt = stmt.where(ContractAcceptance.status == "concluded")
    rows = db.session.execute(stmt.order_by(ContractAcceptance.year.desc(), ContractAcceptance.contract_id)).scalars()
    form = OpenAcceptanceForm(year=county_today().year - (county_today().month < 4))
    form.contract_id.choices = [(c.id, f"{c.code} {c.title}") for c in _contracts()]
    refill(form)
    return render_template("acceptance/index.html", acceptances=list(rows), form=form)


@bp.route("/open", methods=["POST"])
@permission_required(Action.RECORD_ACCEPTANCES)
def open_year():
    form = OpenAcceptanceForm()
    form.contract_id.choices = [(c.id, c.code) for c in _contracts()]
    if not form.validate_on_submit():
        return refuse_form(form, ".index")
    contract = get_contract_or_404(form.contract_id.data)
    try:
        acceptance = service.open_acceptance(contract, form.year.data, current_user)
    except AcceptanceError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(f"已开始 {contract.code} {form.year.data} 年度履约验收", "success")
    return redirect(url_for(".detail", acceptance_id=acceptance.id))


@bp.route("/<int:acceptance_id>")
@login_required
def detail(acceptance_id: int):
    acceptance = _acceptance_or_404(acceptance_id)
    return render_template("acceptance/detail.html", acceptance=acceptance, figures=service.figures_of(acceptance),
                           member_form=refilled(MemberForm()),
                           conclude_form=refilled(ConcludeForm(accepted_on=county_today())))


def _step(acceptance: ContractAcceptance, action, success: str):
    try:
        action(acceptance)
    except AcceptanceError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".detail", acceptance_id=acceptance.id))


@bp.route("/<int:acceptance_id>/members", methods=["POST"])
@permission_required(Action.RECORD_ACCEPTANCES)
def add_member(acceptance_id: int):
    acceptance = _acceptance_or_404(acceptance_id)
    form = MemberForm()
    if not form.validate_on_submit():
        return refuse_form(form, ".detail", acceptance_id=acceptance.id)
    return _step(acceptance, lambda a: service.add_member(a, form.name.data, form.role.data, form.organisation.data),
                 "已添加验收小组成员")


@bp.route("/<int:acceptance_id>/members/<int:member_id>/delete", methods=["POST"])
@permission_required(Action.RECORD_ACCEPTANCES)
def remove_member(acceptance_id: int, member_id: int):
    return _step(_acceptance_or_404(acceptance_id), lambda a: service.remove_member(a, member_id), "已移除成员")


@bp.route("/<int:acceptance_id>/conclude", methods=["POST"])
@permission_required(Action.RECORD_ACCEPTANCES)
def conclude(acceptance_id: int):
    acceptance = _acceptance_or_404(acceptance_id)
    form = ConcludeForm()
    if not form.validate_on_submit():
        return refuse_form(form, ".detail", acceptance_id=acceptance.id)
    try:
        service.conclude(acceptance, conclusion=form.conclusion.data, opinion=form.opinion.data,
                         accepted_on=form.accepted_on.data, user=current_user, today=county_today())
    except AcceptanceError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return refuse_form(form, ".detail", acceptance_id=acceptance.id)
    db.session.commit()
    flash("已出具验收结论", "success")
    return redirect(url_for(".detail", acceptance_id=acceptance.id))


@bp.route("/<int:acceptance_id>/document.<any(docx, pdf):kind>")
@login_required
def document(acceptance_id: int, kind: str):
    acceptance = _acceptance_or_404(acceptance_id)
    bureau = current_app.config.get("BUREAU_NAME") or buyer_name(acceptance.year, acceptance.contract.county_id)
    built = acceptance_document.build_acceptance_document(acceptance, service.figures_of(acceptance), bureau)
    data = acceptance_document.to_docx(built) if kind == "docx" else acceptance_document.to_pdf(built)
    return send_file(io.BytesIO(data), mimetype=DOCX if kind == "docx" else "application/pdf", as_attachment=True,
                     download_name=f"履约验收书_{acceptance.contract.code}_{acceptance.year}.{kind}")
