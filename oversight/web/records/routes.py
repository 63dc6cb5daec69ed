
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...clock import county_today
from ...domain.completion_log import TEMPLATE_COLUMNS
from ...domain.vocabulary import ServiceType
from ...extensions import db
from ...models import CompletionRecord, UploadBatch
from ...policy import Action
from ...services.completion_import import ImportRefused, enter_visit
from ...services.completion_records import RecordFilters, filtered_records, registered_workers
from ..access import get_scoped_or_404
from ..access import (
    contract_scope,
    get_assignment_or_404,
    get_contract_or_404,
    permission_required,
    sees_anomaly_flags,
)
from ..forms_common import redirect_refused_listing
from ..params import database_int, paginate
from ..visit_form import cells, visit_form

bp = Blueprint("records", __name__, url_prefix="/records")


@bp.app_template_global()
def assignment_records(assignment_id: int) -> list[CompletionRecord]:
    """The records of an assignment, for its page (which has checked who may see it)."""
    return db.session.execute(filtered_records(RecordFilters(assignment_id=assignment_id))).scalars().all()


def _filters_from_request() -> RecordFilters:
    args = request.args
    filters = RecordFilters(
        contract_id=args.get("contract", type=database_int), assignment_id=args.get("assignment", type=database_int),
        service_type=args.get("service_type") if args.get("service_type") in ServiceType.codes() else None,
        batch_id=args.get("batch", type=database_int), flagged_only=args.get("flagged") == "1" and sees_anomaly_flags(),
    )
    if filters.contract_id:
        get_contract_or_404(filters.contract_id)
    if filters.assignment_id:
        get_assignment_or_404(filters.assignment_id)
    if filters.batch_id:
        get_contract_or_404(get_scoped_or_404(UploadBatch, filters.batch_id).contract_id)
    return filters


@bp.route("/")
@login_required
def index():
    filters = _filters_from_request()
    stmt = filtered_records(filters, contract_scope())
    page = paginate(stmt)
    return render_template("records/index.html", page=page, filters=filters)


@bp.route("/assignments/<int:assignment_id>/new", methods=["GET", "POST"])
@permission_required(Action.ENTER_RECORDS)
def enter(assignment_id: int):
    assignment = get_assignment_or_404(assignment_id)
    workers = registered_workers(assignment.contract.contractor_id)
    form = visit_form(assignment.service_type, workers)
    refused = []
    if form.validate_on_submit():
        try:
            errors = enter_visit(assignment, cells(form, assignment.service_type, workers), current_user,
                                 county_today())
        except ImportRefused as error:
            errors, refused = None, [str(error)]
        if errors == []:
            db.session.commit()
            flash("已保存服务记录", "success")
            return redirect(url_for("assignments.detail", assignment_id=assignment.id))
        db.session.rollback()
        keys = {column.header: column.key for column in TEMPLATE_COLUMNS[assignment.service_type]}
        for error in errors or []:
            key = "worker_no" if keys.get(error.column) == "worker_name" else keys.get(error.column)
            if key in form:
                form[key].errors = [*form[key].errors, error.reason]
            else:
                refused.append(f"{error.column}：{error.reason}" if error.column else error.reason)
    kept, refused = redirect_refused_listing(form, refused)
    if kept:
        return kept
    return render_template("records/form.html", form=form, assignment=assignment, refused=refused)
