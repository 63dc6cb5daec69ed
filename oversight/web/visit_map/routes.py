"""地图：一名服务人员一天的服务轨迹 (issue 12). Supervisors see every worker and the flags; a
contractor its own workers, without the flags; another contractor's worker is a 404."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ... import policy
from ...extensions import db
from ...models import FieldWorker
from ...services.visit_map import last_visit_day, visit_days, worker_day
from ..access import county_of, require_county_visible
from ..access import is_contractor_user, sees_anomaly_flags

bp = Blueprint("visit_map", __name__, url_prefix="/workers")


def _day_from_request(worker: FieldWorker) -> date | None:
    text = request.args.get("date", "")
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return last_visit_day(worker)


@bp.route("/<int:worker_id>/visits")
@login_required
def day(worker_id: int):
    if not (sees_anomaly_flags() or is_contractor_user()):
        abort(403)
    worker = db.session.get(FieldWorker, worker_id)
    if worker is None or not policy.owns(current_user, worker.contractor_id):
        abort(404)
    require_county_visible(county_of(worker))
    chosen = _day_from_request(worker)
    bad_date = bool(request.args.get("date")) and chosen is None
    visits, data = worker_day(worker, chosen, with_flags=sees_anomaly_flags()) if chosen else ([], None)
    return render_template("visit_map/day.html", worker=worker, day=chosen, visits=visits, data=data,
                           days=visit_days(worker), bad_date=bad_date, show_flags=sees_anomaly_flags(),
                           previous_day=chosen - timedelta(days=1) if chosen else None,
                           next_day=chosen + timedelta(days=1) if chosen else None)
