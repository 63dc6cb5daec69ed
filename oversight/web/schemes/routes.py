"""KPI schemes: every version on view; admins make a new version (a version is never edited)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...domain.scoring import DEFAULT_SCHEME, OPTIONAL_INDICATORS, Band, Indicator, SchemeError
from ...extensions import db
from ...models import Contract, KpiScheme
from ...policy import Action
from ...services import schemes as service
from ...services.kpi_evidence import RECORD_KINDS
from ..access import visible_county_ids
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import permission_required
from ..params import database_int
from .forms import SchemeForm

bp = Blueprint("schemes", __name__, url_prefix="/schemes")

HUNDRED = Decimal(100)
SPARE_BAND_ROWS = 1


@bp.route("/")
@permission_required(Action.READ_OVERSIGHT)
def index():
    schemes = service.all_schemes()
    db.session.commit()  # the default scheme is seeded on first view
    return render_template("schemes/index.html", schemes=schemes,
                           in_use={row.id: service.in_use(row) for row in schemes},
                           payout={row.id: service.payout_rates(row) for row in schemes},
                           contracts=service.contracts_by_scheme(visible_county_ids()),
                           all_contracts=db.session.execute(scope_to_counties(select(Contract), Contract.county_id)
                                                            .order_by(Contract.code)).scalars().all(),
                           codes=sorted({row.code for row in schemes}))


def _form_data(base: KpiScheme) -> dict:
    """The new-version form filled from a version: every indicator the app can measure, in order."""
    scheme = service.domain_scheme(base)
    defaults = {ind.key: ind for ind in (*DEFAULT_SCHEME.indicators, *OPTIONAL_INDICATORS)}
    chosen = {ind.key: ind for ind in scheme.indicators}
    rows = []
    for key in RECORD_KINDS:
        ind = chosen.get(key, defaults[key])
        rows.append({"key": key, "included": key in chosen, "name": ind.name, "weight": ind.weight,
                     "full_at": ind.full_at * HUNDRED, "zero_at": ind.zero_at * HUNDRED,
                     "full_when_empty": ind.full_when_empty})
    payout = service.payout_rates(base)
    bands = [{"rating": band.rating, "minimum": band.minimum, "payout": payout.get(band.rating, Decimal(0)) * HUNDRED}
             for band in scheme.bands]
    return {"code": base.code, "name": base.name, "indicators": rows,
            "bands": bands + [{"rating": "", "minimum": None, "payout": None}] * SPARE_BAND_ROWS}


def _parsed(form: SchemeForm) -> tuple[list[Indicator], list[Band], dict[str, Decimal], list[str]]:
    """The form's rows as domain values, and what is missing from them."""
    indicators, bands, payout, problems = [], [], {}, []
    for row in form.indicators.data:
        if not row["included"] or row["key"] not in RECORD_KINDS:
            continue
        if None in (row["weight"], row["full_at"], row["zero_at"]):
            problems.append(f"指标“{row['name']}”需填写权重、满分线和零分线")
            continue
        indicators.append(Indicator(row["key"], row["name"] or "", row["weight"], row["full_at"] / HUNDRED,
                                    row["zero_at"] / HUNDRED, bool(row["full_when_empty"])))
    for row in form.bands.data:
        rating = (row["rating"] or "").strip()
        if not rating:
            continue
        if row["minimum"] is None or row["payout"] is None:
            problems.append(f"评级“{rating}”需填写最低分和支付比例")
            continue
        bands.append(Band(rating, row["minimum"]))
        payout[rating] = row["payout"] / HUNDRED
    return indicators, bands, payout, problems


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_SCHEMES)
def create():
    base = db.session.get(KpiScheme, request.args.get("base", type=database_int) or 0) or service.latest_scheme("default")
    form = SchemeForm(data=None if request.method == "POST" else _form_data(base))
    if form.validate_on_submit():
        indicators, bands, payout, problems = _parsed(form)
        try:
            if problems:
                raise SchemeError(problems)
            row = service.create_version(form.code.data, form.name.data, indicators, bands, payout, current_user)
        except SchemeError as error:
            for problem in error.problems:
                flash(problem, "danger")
        else:
            db.session.commit()
            flash(f"已保存考核方案 {row.code} 第{row.version}版", "success")
            return redirect(url_for(".index", _anchor=f"scheme-{row.id}"))
    return render_template("schemes/form.html", form=form, base=base)


@bp.route("/assign", methods=["POST"])
@permission_required(Action.MANAGE_SCHEMES)
def assign():
    contract = get_scoped_or_404(Contract, request.form.get("contract_id", type=database_int))
    try:
        service.use_scheme(contract, request.form.get("code", ""))
    except service.SchemeMissing as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(f"合同 {contract.code} 今后按考核方案“{contract.kpi_scheme_code}”的最新版本评分", "success")
    return redirect(url_for(".index"))
