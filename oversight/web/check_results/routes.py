
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...charts.sampling import results_png
from ...clock import county_today
from ...domain.periods import InvalidQuarter, Quarter, quarter_of
from ...domain.statistics import Rate
from ...domain.vocabulary import WorkerFlag
from ...extensions import db
from ...models import Contract
from ...policy import Action
from ...services.callbacks import CallbackError, file_complaint, worker_by_no
from ...services.check_results import ContractResults, contract_results
from ...services.draws import contracts_in_scope_query
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import permission_required
from ..params import paginate

bp = Blueprint("check_results", __name__, url_prefix="/check-results")


def _quarter_or_404(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except InvalidQuarter:
        abort(404)


@bp.route("/")
@permission_required(Action.READ_OVERSIGHT)
def index():
    text = request.args.get("quarter", "").strip() or str(quarter_of(county_today()).previous())
    try:
        quarter = Quarter.parse(text)
    except InvalidQuarter as error:
        flash(str(error), "danger")
        quarter = quarter_of(county_today()).previous()
    page = paginate(scope_to_counties(contracts_in_scope_query(quarter), Contract.county_id))
    rows = [(contract, contract_results(contract.id, quarter, county_today())) for contract in page.items]
    return render_template("check_results/index.html", quarter=quarter, rows=rows, page=page)


@bp.route("/<int:contract_id>/<quarter>")
@permission_required(Action.READ_OVERSIGHT)
def detail(contract_id: int, quarter: str):
    contract = get_scoped_or_404(Contract, contract_id)
    results = contract_results(contract.id, _quarter_or_404(quarter), county_today())
    return render_template("check_results/detail.html", contract=contract, results=results)


def _chart_rates(results: ContractResults) -> list:
    """The left panel of the chart: each rate of the quarter, overall and per service type."""
    errors = results.overall.field_errors
    rates = [("抽查合格率", results.overall.passed),
             ("数据准确率", Rate.of(errors.denominator - errors.numerator, errors.denominator)),
             ("回访满意率", results.overall.satisfaction), ("服务真实率", results.overall.authenticity)]
    for row in results.by_service_type:
        rates.append((f"{row.label} 合格率", row.passed))
    return rates


@bp.route("/<int:contract_id>/<quarter>/chart.png")
@permission_required(Action.READ_OVERSIGHT)
def chart(contract_id: int, quarter: str):
    contract = get_scoped_or_404(Contract, contract_id)
    results = contract_results(contract.id, _quarter_or_404(quarter), county_today())
    png = results_png(_chart_rates(results), [(row.label, row.field_errors) for row in results.by_worker
                                             if row.field_errors.has_data],
                      results.retrain_threshold, results.recheck_threshold)
    return Response(png, mimetype="image/png")


@bp.route("/<int:contract_id>/<quarter>/workers/<worker_no>/recheck", methods=["POST"])
@permission_required(Action.DRAW_SAMPLES)
def recheck_worker(contract_id: int, quarter: str, worker_no: str):
    """Put a worker marked for a targeted re-check (past its threshold on enough evidence, see
    `domain.comparison.recheck_warranted`) into the next draw's targeted stratum."""
    contract = get_scoped_or_404(Contract, contract_id)
    results = contract_results(contract.id, _quarter_or_404(quarter), county_today())
    row = next((row for row in results.flagged_workers if row.key == worker_no and row.flag == WorkerFlag.RECHECK),
               None)
    if row is None:
        abort(404)
    try:
        file_complaint(contract, text=f"{results.quarter} 抽查字段差错率 {row.field_errors.value:.1%}，"
                                      f"{row.flag_label}", user=current_user,
                       worker_id=worker_by_no(contract, worker_no).id, source="error_rate")
    except CallbackError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(f"已将 {row.label} 的近期记录纳入下次抽查的定向分层", "success")
    return redirect(url_for(".detail", contract_id=contract.id, quarter=str(results.quarter)))
