import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from flask import Blueprint, render_template, request
from sqlalchemy import DateTime, Table, select

from ...clock import day_starts_at, format_county_time
from ...domain.vocabulary import AnchorReason, label_of
from ...extensions import db
from ...models import AuditEvent
from ...models.base import vocabulary_of
from ...policy import Action
from ...services.audit_anchors import check_audit_log
from ..access import permission_required
from ..params import paginate

bp = Blueprint("audit_log", __name__, url_prefix="/audit")


@dataclass(frozen=True)
class Shown:
    """One value of a change as a person reads it; `data` marks JSON detail, shown as such."""

    text: str
    data: bool = False


@cache
def _table_of(object_type: str) -> Table | None:
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == object_type:
            return mapper.local_table
    return None


# Coded values of events about something that is not a table (the audit log's own events).
_EVENT_VOCABULARIES = {("AuditLog", "reason"): AnchorReason}


def _shown(table: Table | None, field: str, value, object_type: str = "") -> Shown:
    if value is None:
        return Shown("空")
    if isinstance(value, bool):
        return Shown("是" if value else "否")
    if isinstance(value, (dict, list)):
        return Shown(json.dumps(value, ensure_ascii=False, sort_keys=True), data=True)
    if table is not None and field in table.c and isinstance(table.c[field].type, DateTime) and isinstance(value, str):
        try:  # a stored (UTC) timestamp, shown in county time
            return Shown(format_county_time(datetime.fromisoformat(value), "%Y-%m-%d %H:%M:%S", labelled=True))
        except ValueError:
            pass
    vocabulary = vocabulary_of(table, field) if table is not None else _EVENT_VOCABULARIES.get((object_type, field))
    return Shown(label_of(vocabulary, value) if vocabulary is not None else str(value))


def describe_changes(event: AuditEvent) -> list[tuple[str, list[Shown]]]:
    """(field, its value) for a snapshot, (field, [before, after]) for an update; codes as labels."""
    table = _table_of(event.object_type)
    described = []
    for field, value in event.changes.items():
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            described.append((field, [_shown(table, field, value["before"]), _shown(table, field, value["after"])]))
        else:
            described.append((field, [_shown(table, field, value, event.object_type)]))
    return described


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/")
@permission_required(Action.READ_AUDIT_LOG)
def index():
    args = request.args
    filters = {key: args.get(key, "").strip() for key in ("actor", "action", "object_type", "object_id", "since", "until")}
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key in ("actor", "action", "object_type", "object_id"):
        if filters[key]:
            stmt = stmt.where(getattr(AuditEvent, key) == filters[key])
    if since := _day(filters["since"]):
        stmt = stmt.where(AuditEvent.occurred_at >= day_starts_at(since))
    if until := _day(filters["until"]):
        stmt = stmt.where(AuditEvent.occurred_at < day_starts_at(until + timedelta(days=1)))
    page = paginate(stmt)
    object_types = db.session.execute(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)).scalars().all()
    return render_template("audit_log/index.html", page=page, filters=filters, object_types=object_types,
                           describe_changes=describe_changes)


@bp.route("/verify")
@permission_required(Action.READ_AUDIT_LOG)
def verify():
    return render_template("audit_log/verify.html", report=check_audit_log())
