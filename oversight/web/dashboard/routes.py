from datetime import timedelta

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from ...clock import county_today
from ...policy import Action
from ...services import dashboard
from ...services.callbacks import COMPLAINT_UNCLOSED
from ...services.spot_checks import NOTICE_UNCLOSED, notice_overdue
from ..access import contract_scope, is_contractor_user, may

bp = Blueprint("dashboard", __name__)

DUE_SOON_DAYS = 7


@bp.route("/")
def root():
    return redirect(url_for(".index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/dashboard")
@login_required
def index():
    today = county_today()
    scope = contract_scope()
    progress = dashboard.contract_progress(scope)
    contractor = is_contractor_user()
    return render_template(
        "dashboard/index.html",
        today=today,
        due_soon_until=today + timedelta(days=DUE_SOON_DAYS),
        counts=dashboard.status_counts(progress),
        overdue=dashboard.overdue_count(scope, today),
        due_soon_count=dashboard.count_due_soon(scope, today, DUE_SOON_DAYS),
        due_soon=dashboard.due_soon(scope, today, DUE_SOON_DAYS),
        progress=progress,
        work=dashboard.oversight_counts(current_user.id, scope, today,
                                        staff=may(Action.READ_OVERSIGHT)),
        warnings=dashboard.standing_warnings(scope) if may(Action.READ_OVERSIGHT) else [],
        workers=dashboard.worker_results([row.contract for row in progress], today) if contractor else [],
        notices=dashboard.open_notices(scope, today) if contractor else [],
        windows=dashboard.comment_windows(scope, today),
        notice_overdue=notice_overdue,
        unclosed_notices=NOTICE_UNCLOSED, unclosed_complaints=COMPLAINT_UNCLOSED,
    )
