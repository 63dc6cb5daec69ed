from datetime import datetime, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ...extensions import db
from ...models import AuditEvent
from ...services.audit import verify_audit_log
from ..access import roles_required
from ..params import paginate

bp = Blueprint("audit_log", __name__, url_prefix="/audit")


def _day(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d") if text else None
    except ValueError:
        return None


@bp.route("/")
@roles_required("admin", "auditor")
def index():
    args = request.args
    filters = {key: args.get(key, "").strip() for key in ("actor", "action", "object_type", "object_id", "since", "until")}
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key in ("actor", "action", "object_type", "object_id"):
        if filters[key]:
            stmt = stmt.where(getattr(AuditEvent, key) == filters[key])
    if since := _day(filters["since"]):
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until := _day(filters["until"]):
        stmt = stmt.where(AuditEvent.occurred_at < until + timedelta(days=1))
    page = paginate(stmt)
    object_types = db.session.execute(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)).scalars().all()
    return render_template("audit_log/index.html", page=page, filters=filters, object_types=object_types)


@bp.route("/verify")
@roles_required("admin", "auditor")
def verify():
    checked, broken = verify_audit_log()
    return render_template("audit_log/verify.html", checked=checked, broken=broken)
