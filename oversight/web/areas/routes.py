"""行政区划: the counties the admin's area covers, and their townships and villages loaded from a file."""
from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from ...domain.vocabulary import AreaLevel
from ...extensions import db
from ...models import Area
from ...policy import Action
from ...services.areas import AreaFileRefused, counties_under, load_areas, load_outlines
from ...services.audit import record_event
from ..access import permission_required
from flask_login import current_user
from .forms import AreaFileForm, OutlineFileForm

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
    return _page(form, OutlineFileForm(formdata=None), errors, [])


@bp.route("/outlines", methods=["POST"])
@permission_required(Action.MANAGE_AREAS)
def outlines():
    """乡镇边界 from a GeoJSON file: all features or none, each refusal listed."""
    outline_form = OutlineFileForm()
    outline_errors = []
    if outline_form.validate_on_submit():
        upload = outline_form.file.data
        try:
            stored = load_outlines(upload.read())
        except AreaFileRefused as refused:
            db.session.rollback()
            flash(str(refused), "danger")
            outline_errors = refused.errors
        else:
            record_event("import", "Area", None, {"filename": upload.filename, "outlined": stored})
            db.session.commit()
            flash(f"已导入乡镇边界 {stored} 个", "success")
            return redirect(url_for("areas.index"))
    return _page(AreaFileForm(formdata=None), outline_form, [], outline_errors)


def _page(form, outline_form, errors, outline_errors):
    counties = counties_under(current_user.area_id)
    ids = [c.id for c in counties]
    townships = dict(db.session.execute(
        select(Area.parent_id, func.count()).where(Area.level == AreaLevel.TOWNSHIP, Area.parent_id.in_(ids))
        .group_by(Area.parent_id)).all()) if counties else {}
    outlined = dict(db.session.execute(
        select(Area.parent_id, func.count()).where(Area.level == AreaLevel.TOWNSHIP, Area.parent_id.in_(ids),
                                                   Area.boundary.is_not(None))
        .group_by(Area.parent_id)).all()) if counties else {}
    return render_template("areas/index.html", form=form, errors=errors, counties=counties, townships=townships,
                           outline_form=outline_form, outline_errors=outline_errors, outlined=outlined)
