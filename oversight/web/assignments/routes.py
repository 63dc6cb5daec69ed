import re
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from ...clock import county_today
from ...domain.vocabulary import SUBJECT_KIND_FOR_SERVICE, AssignmentStatus, ServiceType
from ...extensions import db
from ...models import Assignment, Contract, Subject
from ...policy import Action
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
from ..access import get_assignment_or_404, get_contract_or_404, permission_required, scope_to_own_contracts
from ..params import database_int, paginate
from .forms import AssignmentForm

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
                           contracts=_visible_contracts(), townships=townships())


@bp.route("/<int:assignment_id>")
@login_required
def detail(assignment_id: int):
    assignment = get_assignment_or_404(assignment_id)
    return render_template("assignments/detail.html", assignment=assignment)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.ISSUE_ASSIGNMENTS)
def create():
    form = AssignmentForm()
    form.contract_id.choices = [(c.id, f"{c.code} {c.title}") for c in _visible_contracts()]
    duplicate = None
    if form.validate_on_submit():
        contract = db.get_or_404(Contract, form.contract_id.data)
        subject = db.session.execute(select(Subject).where(
            Subject.id_number == form.subject_id_number.data,
            Subject.kind == SUBJECT_KIND_FOR_SERVICE[form.service_type.data],
        )).scalar_one_or_none()
        if subject is None:
            flash("未找到该身份证号的服务对象，请先登记服务对象", "danger")
        else:
            try:
                assignment = issue_assignment(contract, subject, form.service_type.data, form.due_date.data,
                                              (form.number.data or "").strip() or None, county_today(), form.note.data or None)
            except AssignmentError as error:
                flash(str(error), "danger")
                duplicate = error.existing if isinstance(error, DuplicateAssignment) else None
            else:
                db.session.commit()
                flash(f"已派发任务 {assignment.number}", "success")
                return redirect(url_for(".detail", assignment_id=assignment.id))
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
