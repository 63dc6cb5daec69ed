from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ... import policy
from ...domain.vocabulary import ServiceType
from ...extensions import db
from ...models import Assignment, Contract, Contractor
from ...policy import Action
from ...services.procurement import project_of_contract
from ...services.registry import RegistryError, save_contract
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import get_contract_or_404, permission_required, scope_to_own_contracts
from ..forms_common import redirect_refused
from ..params import paginate
from .forms import ContractForm

bp = Blueprint("contracts", __name__, url_prefix="/contracts")


@bp.route("/")
@login_required
def index():
    stmt = scope_to_own_contracts(select(Contract).order_by(Contract.term_start.desc(), Contract.code), Contract.id)
    return render_template("contracts/index.html", page=paginate(stmt))


@bp.route("/<int:contract_id>")
@login_required
def detail(contract_id: int):
    contract = get_contract_or_404(contract_id)
    counts = db.session.execute(
        select(Assignment.service_type, Assignment.status, func.count())
        .where(Assignment.contract_id == contract.id)
        .group_by(Assignment.service_type, Assignment.status)
    ).all()
    by_type: dict[str, dict[str, int]] = {}
    for service_type, status, count in counts:
        by_type.setdefault(service_type, {})[status] = count
    project = project_of_contract(contract.id) if policy.may(current_user, Action.READ_PROCUREMENT) else None
    return render_template("contracts/detail.html", contract=contract, by_type=by_type, project=project)


def _fill_form_from(contract: Contract, form: ContractForm) -> None:
    form.performance_share.data = Decimal(contract.performance_share_bp) / 100
    rule = contract.sampling_rule or {}
    form.sampling_kind.data = rule.get("kind", "share")
    form.sampling_share.data = Decimal(rule.get("share", "0.05")) * 100
    form.sampling_floor.data = rule.get("floor", 5)
    form.sampling_aql.data = rule.get("aql", "2.5")
    for line in contract.service_lines:
        getattr(form, f"{line.service_type}_target").data = line.annual_target
        if line.service_type == "care_visit":
            form.care_visits_per_month.data = line.visits_per_month


def _sampling_rule(form: ContractForm) -> dict:
    kind = form.sampling_kind.data
    if kind == "share":
        return {"kind": "share", "share": str((form.sampling_share.data or Decimal(5)) / 100),
                "floor": form.sampling_floor.data or 5}
    if kind == "iso2859":
        return {"kind": "iso2859", "aql": form.sampling_aql.data.strip() or "2.5"}
    return {"kind": "hypergeometric", "limiting_quality": "0.10", "consumer_risk": "0.10"}


def _edit(contract: Contract | None):
    form = ContractForm(obj=contract)
    form.contractor_id.choices = [
        (c.id, c.name) for c in db.session.execute(
            scope_to_counties(select(Contractor), Contractor.county_id).order_by(Contractor.name)).scalars()
    ]
    if contract is not None and not form.is_submitted():
        _fill_form_from(contract, form)
    if form.validate_on_submit():
        lines = {
            service_type: (target, form.care_visits_per_month.data or 1 if service_type == "care_visit" else 1)
            for service_type in ServiceType
            if (target := getattr(form, f"{service_type}_target").data or 0) > 0
        }
        try:
            saved = save_contract(
                contract, lines=lines, code=form.code.data.strip(), title=form.title.data.strip(),
                contractor_id=form.contractor_id.data, procurement_method=form.procurement_method.data,
                amount_fen=form.amount_fen.data, term_start=form.term_start.data, term_end=form.term_end.data,
                performance_share_bp=int(form.performance_share.data * 100), sampling_rule=_sampling_rule(form),
            )
        except RegistryError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已保存合同", "success")
            return redirect(url_for(".detail", contract_id=saved.id))
    return redirect_refused(form) or render_template("contracts/form.html", form=form, contract=contract)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_CONTRACTS)
def create():
    return _edit(None)


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@permission_required(Action.MANAGE_CONTRACTS)
def edit(contract_id: int):
    return _edit(get_scoped_or_404(Contract, contract_id))
