from flask import Blueprint, render_template

from ..access import roles_required

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.route("/")
@roles_required("admin", "supervisor")
def index():
    return render_template("imports/index.html")
