"""情况变化报告: a reported change of a person's condition issues a re-assessment due in 10
working days; the bureau states from when a changed care tier takes effect (issue 14)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ...clock import county_today
from ...domain.reassessment import EffectiveDateRefused, default_effective_date
from ...extensions import db
from ...models import CompletionRecord, ConditionReport, Subject
from ...policy import Action
from ...services import reassessment as service
from ..access import (
    contract_scope,
    get_assignment_or_404,
    get_contract_or_404,
    is_contractor_user,
    may,
    permission_required,
    subject_visible,
)
from ..forms_common import redisplay, refill
from ..params import paginate
from .forms import ConditionReportForm, EffectiveDateForm

bp = Blueprint("reassessment", __name__, url_prefix="/condition-reports")


@bp.app_template_global()
def condition_reports_of_subject(subject_id: int) -> list[ConditionReport]:
    """The person's reports the user may see (a contractor: those of its own contracts)."""
    return service.reports_of_subject(subject_id, contract_scope())


@bp.app_template_global()
def condition_reports_of_assignment(assignment_id: int) -> list[ConditionReport]:
    return service.reports_of_assignment(assignment_id)


@bp.app_template_global()
def tier_history_of(subject_id: int) -> dict | None:
    """The person's care-tier changes and the tier in force today, for the bureau (None for a
    contractor: the history reads assessments of other contracts too)."""
    if not may(Action.READ_OVERSIGHT) and not may(Action.STATE_TIER_DATES):
        return None
    today = county_today()
    return {"changes": service.tier_history(subject_id), "today": today,
            "in_force": service.tier_in_force(subject_id, today), "form": EffectiveDateForm()}


@bp.route("/")
@login_required
def index():
    return render_template("reassessment/index.html", page=paginate(service.reports_query(contract_scope())))


def _person_or_404(subject_id: int) -> Subject:
    subject = db.session.get(Subject, subject_id)
    if subject is None or not subject_visible(subject.id):
        abort(404)
    return subject


def _report_or_404(report_id: int) -> ConditionReport:
    report = db.get_or_404(ConditionReport, report_id)
    get_contract_or_404(report.contract_id)
    return report


@bp.route("/new/<int:subject_id>", methods=["GET", "POST"])
@permission_required(Action.REPORT_CONDITION_CHANGES)
def create(subject_id: int):
    subject = _person_or_404(subject_id)
    today = county_today()
    contracts = service.serving_contracts(subject, today, current_user.contractor_id if is_contractor_user() else None)
    form = ConditionReportForm()
    form.contract_id.choices = [(c.id, f"{c.code} {c.title}") for c in contracts]
    if not form.is_submitted():
        form.reported_on.data = today
    if form.validate_on_submit():
        contract = get_contract_or_404(form.contract_id.data)
        try:
            report = service.report_change(subject, contract, reported_on=form.reported_on.data,
                                           reporter_kind=form.reporter_kind.data, reporter_name=form.reporter_name.data,
                                           description=form.description.data, user=current_user, today=today)
        except service.ReportRefused as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            assignment = report.assignment
            flash(f"已登记情况变化报告，复评任务 {assignment.number} 截止 {assignment.due_date.isoformat()}", "success")
            return redirect(url_for(".detail", report_id=report.id))
    if form.is_submitted():
        return redisplay(form) or _form_page(form, subject, contracts)
    refill(form)
    return _form_page(form, subject, contracts)


def _form_page(form: ConditionReportForm, subject: Subject, contracts: list):
    return render_template("reassessment/form.html", form=form, subject=subject, contracts=contracts)


@bp.route("/<int:report_id>")
@login_required
def detail(report_id: int):
    report = _report_or_404(report_id)
    return render_template("reassessment/detail.html", report=report, assignment=report.assignment)


@bp.route("/records/<int:record_id>/effective-date", methods=["POST"])
@permission_required(Action.STATE_TIER_DATES)
def state_date(record_id: int):
    """State the 生效日期 of the tier change an assessment record made."""
    record = db.get_or_404(CompletionRecord, record_id)
    assignment = get_assignment_or_404(record.assignment_id)
    form = EffectiveDateForm()
    if form.validate_on_submit():
        try:
            service.state_effective_date(record, form.effective_from.data, form.reason.data, current_user)
        except EffectiveDateRefused as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"护理档次自 {form.effective_from.data.isoformat()} 起生效", "success")
    else:
        flash("；".join(m for messages in form.errors.values() for m in messages) or "请重新填写", "danger")
    return redirect(url_for("subjects.detail", subject_id=assignment.subject_id, _anchor="care-tiers"))


@bp.app_template_global()
def default_tier_date(assessed_on):
    return default_effective_date(assessed_on)
