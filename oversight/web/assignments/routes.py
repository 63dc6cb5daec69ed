import re
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today
from ...domain.vocabulary import SUBJECT_KIND_FOR_SERVICE, AssignmentStatus, ServiceType
from ...extensions import db
from ...models import Assignment, Contract, Subject
from ... import policy
from ...policy import Action
from ...services.field_app import FieldAppRefused, assign_worker, registered_worker_choices
from ...services.assignments import (
    NOT_CANCELLED,
    AssignmentError,
    AssignmentFilters,
    DuplicateAssignment,
    cancel_assignment,
    filtered_assignments,
    issue_assignment,
)
from ...services.registry import townships
from ..access import get_scoped_or_404
from ..access import get_assignment_or_404, get_contract_or_404, permission_required, scope_to_own_contracts
from ..access import visible_county_ids
from ..params import database_int, paginate
from ..forms_common import redisplay, refill
from .forms import AssignmentForm, WorkerForm

bp = Blueprint("assignments", __name__, url_prefix="/assignments")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _visible_contracts() -> list[Contract]:
    stmt = scope_to_own_contracts(select(Contract).order_by(Contract.code), Contract.id)
    return db.session.execute(stmt).scalars().all()


def _filters_from_request() -> AssignmentFilters:
    args = request.args
    month = args.get("due_month", "").strip()
    return AssignmentFilters(
        contract_id=args.get("contract", type=database_int),
        township=args.get("township") or None,
        service_type=args.get("service_type") if args.get("service_type") in ServiceType.codes() else None,
        status=args.get("status") if args.get("status") in (*AssignmentStatus.codes(), NOT_CANCELLED) else None,
        due_month=month if _MONTH.match(month) else None,
        number=args.get("number", "").strip() or None,
        due_from=_day(args.get("due_from")),
        due_to=_day(args.get("due_to")),
        late_on=county_today() if args.get("late") == "1" else None,
    )


def _day(text: str | None) -> date | None:
    """An ISO day from the query string; anything else is no filter."""
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


@bp.route("/")
@login_required
def index():
    filters = _filters_from_request()
    if filters.contract_id:
        get_contract_or_404(filters.contract_id)
    stmt = scope_to_own_contracts(filtered_assignments(filters), Assignment.contract_id)
    page = paginate(stmt)
    return render_template("assignments/index.html", page=page, filters=filters, not_cancelled=NOT_CANCELLED,
                           contracts=_visible_contracts(), townships=townships(visible_county_ids()))


@bp.route("/<int:assignment_id>")
@login_required
def detail(assignment_id: int):
    assignment = get_assignment_or_404(assignment_id)
    form = None
    if policy.may(current_user, Action.ASSIGN_WORKERS, assignment):
        form = WorkerForm()
        form.offer(registered_worker_choices(assignment.contract.contractor_id), assignment.worker_id)
    return render_template("assignments/detail.html", assignment=assignment, worker_form=form)


@bp.route("/<int:assignment_id>/worker", methods=["POST"])
@permission_required(Action.ASSIGN_WORKERS)
def assign(assignment_id: int):
    """Give the assignment to one of the contractor's field workers (their app then shows it)."""
    assignment = get_assignment_or_404(assignment_id)
    form = WorkerForm()
    form.offer(registered_worker_choices(assignment.contract.contractor_id), assignment.worker_id)
    if form.validate_on_submit():
        try:
            worker = assign_worker(assignment, form.worker_id.data or None, current_user)
        except FieldAppRefused as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"已指派给 {worker.worker_no} {worker.name}" if worker else "已取消指派", "success")
    else:
        flash("；".join(message for messages in form.errors.values() for message in messages) or "请重新选择", "danger")
    return redirect(url_for(".detail", assignment_id=assignment.id))


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.ISSUE_ASSIGNMENTS)
def create():
    contracts = _visible_contracts()
    form = AssignmentForm()
    form.offer(contracts, request.args.get("contract", type=database_int))
    if form.validate_on_submit():
        contract = get_scoped_or_404(Contract, form.contract_id.data)
        subject = db.session.execute(select(Subject).where(
            Subject.id_number == form.subject_id_number.data, Subject.county_id == contract.county_id,
            Subject.kind == SUBJECT_KIND_FOR_SERVICE[form.service_type.data],
        )).scalar_one_or_none()
        if subject is None:
            form.subject_id_number.errors.append("未找到该身份证号的服务对象，请先登记服务对象")
        else:
            try:
                assignment = issue_assignment(contract, subject, form.service_type.data, form.due_date.data,
                                              (form.number.data or "").strip() or None, county_today(), form.note.data or None)
            except DuplicateAssignment as error:
                flash(str(error), "danger")
                return redisplay(form, duplicate=error.existing.id) or _form_page(form, error.existing)
            except AssignmentError as error:
                flash(str(error), "danger")
            else:
                db.session.commit()
                flash(f"已派发任务 {assignment.number}", "success")
                return redirect(url_for(".detail", assignment_id=assignment.id))
    if form.is_submitted():
        return redisplay(form) or _form_page(form)
    kept = refill(form)
    return _form_page(form, db.session.get(Assignment, kept["duplicate"]) if kept and kept.get("duplicate") else None)


def _form_page(form: AssignmentForm, duplicate: Assignment | None = None):
    return render_template("assignments/form.html", form=form, duplicate=duplicate)


@bp.route("/<int:assignment_id>/cancel", methods=["POST"])
@permission_required(Action.CANCEL_ASSIGNMENTS)
def cancel(assignment_id: int):
    assignment = get_assignment_or_404(assignment_id)
    try:
        cancel_assignment(assignment)
    except AssignmentError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash("任务已取消", "success")
    return redirect(url_for(".detail", assignment_id=assignment.id))
