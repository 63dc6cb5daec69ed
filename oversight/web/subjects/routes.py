from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from ...domain.vocabulary import SubjectCategory
from ...extensions import db
from ...services.areas import township_names
from ...models import Assignment, Subject
from ...policy import Action
from ...services.registry import RegistryError, save_subject, townships
from ..access import scope_to_counties, visible_county_ids
from ..access import get_scoped_or_404
from ..access import (
    county_for_new_row,
    is_contractor_user,
    own_contract_ids,
    permission_required,
    reveal_personal_data,
    subject_visible,
)
from ..params import paginate
from ..forms_common import allow_one_view, one_view_allowed, redirect_refused
from .forms import SubjectForm

bp = Blueprint("subjects", __name__, url_prefix="/subjects")


@bp.route("/")
@login_required
def index():
    stmt = scope_to_counties(select(Subject), Subject.county_id).order_by(Subject.township, Subject.village, Subject.name)
    if is_contractor_user():
        stmt = stmt.where(Subject.id.in_(
            select(Assignment.subject_id).where(Assignment.contract_id.in_(own_contract_ids()))
        ))
    filters = {key: request.args.get(key, "").strip() for key in ("township", "category", "kind", "q")}
    if filters["township"]:
        stmt = stmt.where(Subject.township == filters["township"])
    if filters["category"]:
        stmt = stmt.where(Subject.category == filters["category"])
    if filters["kind"]:
        stmt = stmt.where(Subject.kind == filters["kind"])
    if filters["q"]:
        stmt = stmt.where(Subject.name.contains(filters["q"]))
    page = paginate(stmt)
    return render_template("subjects/index.html", page=page, filters=filters, townships=townships(visible_county_ids()),
                           categories=SubjectCategory.codes())


def _visible_subject_or_404(subject_id: int) -> Subject:
    subject = db.session.get(Subject, subject_id)
    if subject is None or not subject_visible(subject.id):
        abort(404)
    return subject


@bp.route("/<int:subject_id>")
@login_required
def detail(subject_id: int):
    subject = _visible_subject_or_404(subject_id)
    stmt = select(Assignment).where(Assignment.subject_id == subject.id).order_by(Assignment.due_date.desc())
    if is_contractor_user():
        stmt = stmt.where(Assignment.contract_id.in_(own_contract_ids()))
    assignments = db.session.execute(stmt).scalars().all()
    # The township is free text; once the county's townships are loaded, say whether it is one.
    loaded = township_names(subject.county_id)
    township_known = (subject.township in loaded) if loaded else None
    return render_template("subjects/detail.html", subject=subject, assignments=assignments,
                           township_known=township_known,
                           revealed=one_view_allowed("Subject", subject.id))


@bp.route("/<int:subject_id>/reveal", methods=["POST"])
@permission_required(Action.REVEAL_PERSONAL_DATA)
def reveal(subject_id: int):
    """Show the full ID number and phone once; every such view is audited (a reload shows them masked)."""
    subject = _visible_subject_or_404(subject_id)
    reveal_personal_data("Subject", subject.id, ["id_number", "phone"])
    db.session.commit()
    allow_one_view("Subject", subject.id)
    return redirect(url_for(".detail", subject_id=subject.id), code=303)


def _edit(subject: Subject | None):
    form = SubjectForm(obj=subject)
    if subject is not None and form.is_submitted() and not (form.id_number.data or "").strip():
        form.id_number.data = subject.id_number
    if form.validate_on_submit():
        try:
            saved = save_subject(
                subject, kind=form.kind.data, name=form.name.data.strip(), id_number=form.id_number.data,
                township=form.township.data.strip(), village=form.village.data.strip(),
                category=form.category.data, phone=form.phone.data or None,
                household_size=form.household_size.data,
                **({} if subject else {"county_id": county_for_new_row()}),
            )
        except RegistryError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已保存服务对象", "success")
            return redirect(url_for(".detail", subject_id=saved.id))
    if form.is_submitted() and subject is not None and form.id_number.data == subject.id_number:
        form.id_number.data = ""  # the stored number, put back above, was not typed: it stays off the page
    kept = redirect_refused(form)
    if kept:
        return kept
    if subject is not None and not (form.id_number.data or "").strip():
        # The form never shows stored personal data in full: editing re-enters it.
        form.id_number.data = ""
        form.id_number.description = f"当前：{subject.masked_id_number}；留空则不修改"
    return render_template("subjects/form.html", form=form, subject=subject)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_SUBJECTS)
def create():
    return _edit(None)


@bp.route("/<int:subject_id>/edit", methods=["GET", "POST"])
@permission_required(Action.MANAGE_SUBJECTS)
def edit(subject_id: int):
    return _edit(get_scoped_or_404(Subject, subject_id))
