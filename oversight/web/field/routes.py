"""A field worker's own pages: the visits given to it (the phone app comes with the PWA)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ...extensions import db
from ...models import Assignment
from ...policy import Action, sees_assignment
from ...services.field_app import visible_assignments
from ..access import permission_required
from ..params import paginate

bp = Blueprint("field", __name__, url_prefix="/field")


@bp.route("/")
@permission_required(Action.USE_FIELD_PAGES)
def index():
    return render_template("field/index.html", page=paginate(visible_assignments(current_user)))


@bp.route("/assignments/<int:assignment_id>")
@permission_required(Action.USE_FIELD_PAGES)
def assignment(assignment_id: int):
    found = db.session.get(Assignment, assignment_id)
    if found is None or not sees_assignment(current_user, found):
        abort(404)
    return render_template("field/assignment.html", assignment=found)
