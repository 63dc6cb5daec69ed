from datetime import timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...charts.city import pass_rates_png
from ...clock import county_today
from ...extensions import db
from ...models import Area
from ...policy import Action
from ...services import city_dashboard, dashboard
from ...services.callbacks import COMPLAINT_UNCLOSED
from ...services.spot_checks import NOTICE_UNCLOSED, notice_overdue
from ..access import contract_scope, is_contractor_user, may, permission_required, visible_county_ids

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
    listed = progress if request.args.get("contracts") == "all" else dashboard.recent_progress(progress, today)
    contractor = is_contractor_user()
    return render_template(
        "dashboard/index.html",
        today=today,
        due_soon_until=today + timedelta(days=DUE_SOON_DAYS),
        counts=dashboard.status_counts(progress),
        overdue=dashboard.overdue_count(scope, today),
        due_soon_count=dashboard.count_due_soon(scope, today, DUE_SOON_DAYS),
        due_soon=dashboard.due_soon(scope, today, DUE_SOON_DAYS),
        progress=listed,
        unlisted_contracts=len(progress) - len(listed),
        work=dashboard.oversight_counts(current_user.id, scope, today,
                                        staff=may(Action.READ_OVERSIGHT)),
        warnings=dashboard.standing_warnings(scope) if may(Action.READ_OVERSIGHT) else [],
        workers=dashboard.worker_results([row.contract for row in progress], today) if contractor else [],
        notices=dashboard.open_notices(scope, today) if contractor else [],
        windows=dashboard.comment_windows(scope, today),
        notice_overdue=notice_overdue,
        unclosed_notices=NOTICE_UNCLOSED, unclosed_complaints=COMPLAINT_UNCLOSED,
        city_area=_city_area(),
        county_view=_county_view(),
    )


def _county_view() -> Area | None:
    """The county a city user narrowed the dashboard to (`?county=<id>`), if any."""
    chosen = request.args.get("county", type=int)
    if chosen is None or visible_county_ids() != [chosen] or _city_area() is None:
        return None
    return db.session.get(Area, chosen)


def _city_area() -> Area | None:
    """The signed-in user's area when it is a city or a province (the city dashboard's), else None."""
    area_id = getattr(current_user, "area_id", None)
    area = db.session.get(Area, area_id) if area_id is not None else None
    return area if area is not None and area.level in city_dashboard.ABOVE_COUNTY else None


def _city_board() -> city_dashboard.CityDashboard:
    """The city dashboard of the user's city or province; 404 for a user scoped to a county."""
    area = _city_area()
    if area is None:
        abort(404)
    return city_dashboard.city_dashboard(area, county_today())


@bp.route("/dashboard/city")
@permission_required(Action.READ_CITY_DASHBOARD)
def city():
    board = _city_board()
    return render_template("dashboard/city.html", board=board, today=county_today(),
                           unclosed_complaints=COMPLAINT_UNCLOSED)


@bp.route("/dashboard/city/pass-rates.png")
@permission_required(Action.READ_CITY_DASHBOARD)
def city_chart():
    board = _city_board()
    if board.quarter is None:
        abort(404)
    return Response(pass_rates_png(board.figures, board.area.name, str(board.quarter)), mimetype="image/png")
