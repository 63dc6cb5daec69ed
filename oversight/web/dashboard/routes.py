
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from ...clock import county_today
from ...policy import Action
from ...services import dashboard
from ..access import contract_scope, may

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def root():
    return redirect(url_for(".index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/dashboard")
@login_required
def index():
    today = county_today()
    scope = contract_scope()
    progress = dashboard.contract_progress(scope)
    return render_template(
        "dashboard/index.html",
        today=today,
        counts=dashboard.status_counts(progress),
        overdue=dashboard.overdue_count(scope, today),
        due_soon_count=dashboard.count_due_soon(scope, today),
        due_soon=dashboard.due_soon(scope, today),
        progress=progress,
        work=dashboard.oversight_counts(current_user.id, scope, today,
                                        staff=may(Action.READ_OVERSIGHT)),
    )
