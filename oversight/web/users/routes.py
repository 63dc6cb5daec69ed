from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Area, Contractor, FieldWorker, User
from ...policy import Action
from ...services.accounts import AccountError, create_user
from ..access import managed_area_ids, permission_required, scope_to_counties
from ..params import paginate
from .forms import UserForm

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@permission_required(Action.MANAGE_USERS)
def index():
    stmt = select(User).where(User.area_id.in_(managed_area_ids())).order_by(User.role, User.username)
    return render_template("users/index.html", page=paginate(stmt))


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_USERS)
def create():
    form = UserForm()
    form.area_id.choices = [(area.id, f"{area.name}（{area.code}）") for area in db.session.execute(
        select(Area).where(Area.id.in_(managed_area_ids())).order_by(Area.code)).scalars()]
    if not form.is_submitted() or "area_id" not in request.form:  # the admin's own area unless chosen
        form.area_id.data = current_user.area_id
    form.contractor_id.choices = [(0, "—")] + [
        (c.id, c.name) for c in db.session.execute(
            scope_to_counties(select(Contractor), Contractor.county_id).order_by(Contractor.name)).scalars()
    ]
    form.field_worker_id.choices = [(0, "—")] + [
        (worker.id, f"{contractor.name} {worker.worker_no} {worker.name}") for worker, contractor in db.session.execute(
            scope_to_counties(select(FieldWorker, Contractor).join(Contractor, FieldWorker.contractor_id == Contractor.id),
                              Contractor.county_id)
            .where(FieldWorker.active).order_by(Contractor.name, FieldWorker.worker_no)).all()
    ]
    if form.validate_on_submit():
        try:
            create_user(form.username.data, form.password.data, form.role.data, form.display_name.data.strip(),
                        contractor_id=form.contractor_id.data or None,
                        field_worker_id=form.field_worker_id.data or None, area_id=form.area_id.data)
        except AccountError as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash("已创建用户", "success")
            return redirect(url_for(".index"))
    return render_template("users/form.html", form=form)


@bp.route("/<int:user_id>/toggle", methods=["POST"])
@permission_required(Action.MANAGE_USERS)
def toggle_active(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.area_id not in managed_area_ids():
        abort(404)
    user.is_active_account = not user.is_active_account
    db.session.commit()  # deactivating ends the user's sessions (services/accounts.py)
    flash(f"已{'启用' if user.is_active_account else '停用'} {user.username}", "success")
    return redirect(url_for(".index"))
