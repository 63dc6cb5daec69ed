"""行政区划: the counties the admin's area covers, and their townships and villages loaded from a file."""
from flask import Blueprint, flash, render_template
from sqlalchemy import func, select

from ...domain.vocabulary import AreaLevel
from ...extensions import db
from ...models import Area
from ...policy import Action
from ...services.areas import AreaFileRefused, counties_under, load_areas
from ...services.audit import record_event
from ..access import permission_required
from flask_login import current_user
from .forms import AreaFileForm

bp = Blueprint("areas", __name__, url_prefix="/areas")


@bp.route("/", methods=["GET", "POST"])
@permission_required(Action.MANAGE_AREAS)
def index():
    form = AreaFileForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            added, renamed = load_areas(upload.read(), upload.filename)
        except AreaFileRefused as refused:
            db.session.rollback()
            flash(str(refused), "danger")
            errors = refused.errors
        else:
            record_event("import", "Area", None, {"filename": upload.filename, "added": added, "renamed": renamed})
            db.session.commit()
            flash(f"已导入区划：新增 {added} 个，更名 {renamed} 个", "success")
    counties = counties_under(current_user.area_id)
    townships = dict(db.session.execute(
        select(Area.parent_id, func.count()).where(Area.level == AreaLevel.TOWNSHIP,
                                                   Area.parent_id.in_([c.id for c in counties]))
        .group_by(Area.parent_id)).all()) if counties else {}
    return render_template("areas/index.html", form=form, errors=errors, counties=counties, townships=townships)
