"""付款计划 pages: every signed-in user sees the schedules of the contracts it may see (a contractor
its own, read-only); staff plan, hold and release installments; the admin records payments."""
from __future__ import annotations

import io
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today
from ...domain.installments import InstallmentError
from ...exports.installment_sheet import installment_sheet
from ...extensions import db
from ...models import Contract, Installment
from ...policy import Action, owns
from ...services import installments as service
from ...services.audit import record_event
from ..access import require_county_visible
from ..access import get_contract_or_404, permission_required, scope_to_own_contracts
from ..forms_common import refilled
from ..workflow import refuse_form
from .forms import HoldForm, InstallmentForm, PayForm

bp = Blueprint("payments", __name__, url_prefix="/payments")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _installment_or_404(installment_id: int) -> Installment:
    installment = db.session.get(Installment, installment_id)
    if installment is None or not owns(current_user, installment.contract.contractor_id):
        abort(404)
    require_county_visible(installment.contract.county_id)
    return installment


@bp.route("/")
@login_required
def index():
    contracts = db.session.execute(scope_to_own_contracts(select(Contract).order_by(Contract.code),
                                                          Contract.id)).scalars().all()
    return render_template("payments/index.html", contracts=contracts)


@bp.route("/contracts/<int:contract_id>")
@login_required
def contract_schedule(contract_id: int):
    contract = get_contract_or_404(contract_id)
    return render_template("payments/schedule.html", contract=contract,
                           schedule=service.schedule(contract, county_today()), form=refilled(InstallmentForm()),
                           hold_form=HoldForm(), pay_form=PayForm(paid_on=county_today()))


def _step(installment: Installment, action, success: str):
    try:
        action(installment)
    except InstallmentError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".contract_schedule", contract_id=installment.contract_id))


@bp.route("/contracts/<int:contract_id>/installments", methods=["POST"])
@permission_required(Action.MANAGE_INSTALLMENTS)
def add(contract_id: int):
    contract = get_contract_or_404(contract_id)
    form = InstallmentForm()
    if not form.validate_on_submit():
        return refuse_form(form, ".contract_schedule", contract_id=contract.id)
    share_bp = None if form.share.data is None else int(Decimal(form.share.data) * 100)
    try:
        service.add_installment(contract, title=form.title.data, kind=form.kind.data, condition=form.condition.data,
                                amount_fen=form.amount_fen.data or None, share_bp=share_bp, year=form.year.data,
                                due_on=form.due_on.data, user=current_user)
    except InstallmentError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return refuse_form(form, ".contract_schedule", contract_id=contract.id)
    db.session.commit()
    flash("已添加付款分期", "success")
    return redirect(url_for(".contract_schedule", contract_id=contract.id))


@bp.route("/installments/<int:installment_id>/hold", methods=["POST"])
@permission_required(Action.MANAGE_INSTALLMENTS)
def hold(installment_id: int):
    installment = _installment_or_404(installment_id)
    form = HoldForm()
    if not form.validate_on_submit():
        return refuse_form(form, ".contract_schedule", contract_id=installment.contract_id)
    return _step(installment, lambda item: service.hold_installment(item, form.reason.data, current_user), "已暂扣")


@bp.route("/installments/<int:installment_id>/release", methods=["POST"])
@permission_required(Action.MANAGE_INSTALLMENTS)
def release(installment_id: int):
    return _step(_installment_or_404(installment_id), service.release_installment, "已解除暂扣")


@bp.route("/installments/<int:installment_id>/delete", methods=["POST"])
@permission_required(Action.MANAGE_INSTALLMENTS)
def delete(installment_id: int):
    return _step(_installment_or_404(installment_id), service.delete_installment, "已删除付款分期")


@bp.route("/installments/<int:installment_id>/pay", methods=["POST"])
@permission_required(Action.RECORD_PAYMENTS)
def pay(installment_id: int):
    installment = _installment_or_404(installment_id)
    form = PayForm()
    if not form.validate_on_submit():
        return refuse_form(form, ".contract_schedule", contract_id=installment.contract_id)
    return _step(installment, lambda item: service.pay_installment(item, form.paid_on.data, current_user,
                                                                   county_today()), "已登记付款")


@bp.route("/export.xlsx")
@permission_required(Action.READ_OVERSIGHT)
def export():
    today = county_today()
    rows = service.finance_rows(None, today)
    record_event("export", "Installment", None, {"format": "xlsx", "rows": len(rows)})
    db.session.commit()
    return send_file(io.BytesIO(installment_sheet(rows, today=today)), mimetype=XLSX, as_attachment=True,
                     download_name=f"付款计划_{today.isoformat()}.xlsx")
