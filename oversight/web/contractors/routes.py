import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ...clock import county_today, utcnow
from ...extensions import db
from ...models import Contractor, FieldWorker
from ...policy import Action
from ...services.audit import record_event
from ...services.contractor_profile import contractor_profile
from ...services.registry import RegistryError, save_contractor, save_worker, worker_counts
from ..access import scope_to_counties
from ..access import get_scoped_or_404
from ..access import county_for_new_row, is_contractor_user, permission_required, require_contractor_visible
from ..forms_common import redirect_refused
from ..params import paginate
from .forms import ContractorForm, WorkerForm

bp = Blueprint("contractors", __name__, url_prefix="/contractors")


@bp.route("/")
@login_required
def index():
    if is_contractor_user():
        return redirect(url_for(".detail", contractor_id=current_user.contractor_id))
    page = paginate(scope_to_counties(select(Contractor), Contractor.county_id).order_by(Contractor.name, Contractor.id))
    return render_template("contractors/index.html", page=page, worker_counts=worker_counts())


@bp.route("/<int:contractor_id>")
@login_required
def detail(contractor_id: int):
    require_contractor_visible(contractor_id)
    contractor = get_scoped_or_404(Contractor, contractor_id)
    return render_template("contractors/detail.html", contractor=contractor)


@bp.route("/<int:contractor_id>/profile")
@permission_required(Action.READ_CONTRACTOR_PROFILES)
def profile(contractor_id: int):
    """履约档案: every contract and year with its results, for a tender's scoring committee."""
    from ...exports.contractor_profile import CONTRACT_HEADERS, QUARTER_HEADERS, YEAR_HEADERS, profile_rows

    require_contractor_visible(contractor_id)
    contractor = get_scoped_or_404(Contractor, contractor_id)
    found = contractor_profile(contractor, county_today())
    return render_template("contractors/profile.html", contractor=contractor, profile=found,
                           rows=profile_rows(found), contract_headers=CONTRACT_HEADERS, year_headers=YEAR_HEADERS,
                           quarter_headers=QUARTER_HEADERS)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/<int:contractor_id>/profile.<any(xlsx, pdf):kind>")
@permission_required(Action.READ_CONTRACTOR_PROFILES)
def profile_export(contractor_id: int, kind: str):
    """The profile as .xlsx or PDF; the export is logged."""
    from ...exports.contractor_profile import to_pdf, to_xlsx

    require_contractor_visible(contractor_id)
    contractor = get_scoped_or_404(Contractor, contractor_id)
    found = contractor_profile(contractor, county_today())
    data = (to_xlsx if kind == "xlsx" else to_pdf)(found, generated_at=utcnow())
    record_event("export", "ContractorProfile", contractor.id, {"format": kind})
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=XLSX if kind == "xlsx" else "application/pdf", as_attachment=True,
                     download_name=f"履约档案_{contractor.name}_{county_today():%Y%m%d}.{kind}")


def _edit_contractor(contractor: Contractor | None):
    form = ContractorForm(obj=contractor)
    if form.validate_on_submit():
        try:
            saved = save_contractor(contractor, name=form.name.data.strip(), credit_code=form.credit_code.data,
                                    contact_person=form.contact_person.data.strip(),
                                    contact_phone=form.contact_phone.data,
                                    county_id=None if contractor else county_for_new_row())
        except RegistryError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已保存承接机构", "success")
            return redirect(url_for(".detail", contractor_id=saved.id))
    return redirect_refused(form) or render_template("contractors/form.html", form=form, contractor=contractor)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_CONTRACTORS)
def create():
    return _edit_contractor(None)


@bp.route("/<int:contractor_id>/edit", methods=["GET", "POST"])
@permission_required(Action.MANAGE_CONTRACTORS)
def edit(contractor_id: int):
    return _edit_contractor(get_scoped_or_404(Contractor, contractor_id))


@bp.route("/<int:contractor_id>/workers/new", methods=["GET", "POST"])
@bp.route("/<int:contractor_id>/workers/<int:worker_id>/edit", methods=["GET", "POST"])
@permission_required(Action.MANAGE_CONTRACTORS)
def edit_worker(contractor_id: int, worker_id: int | None = None):
    contractor = get_scoped_or_404(Contractor, contractor_id)
    worker = None
    if worker_id is not None:
        worker = get_scoped_or_404(FieldWorker, worker_id)
        if worker.contractor_id != contractor.id:
            abort(404)
    form = WorkerForm(obj=worker)
    if form.validate_on_submit():
        try:
            save_worker(contractor, worker, worker_no=form.worker_no.data.strip(), name=form.name.data.strip(),
                        phone=form.phone.data, active=form.active.data)
        except RegistryError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已保存服务人员", "success")
            return redirect(url_for(".detail", contractor_id=contractor.id))
    return redirect_refused(form) or render_template("contractors/worker_form.html", form=form, contractor=contractor,
                                                     worker=worker)
