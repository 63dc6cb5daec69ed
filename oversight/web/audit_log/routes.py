import json
import tempfile
from datetime import date, timedelta

from flask import Blueprint, render_template, request, send_file
from sqlalchemy import Select, func, or_, select

from ...clock import county_time_heading, county_today, county_wall_time, day_starts_at
from ...domain.vocabulary import AuditAction, AuditObject, label_of
from ...exports.bundle import JSON_COLUMN
from ...exports.sheets import CsvTable, XlsxTable
from ...extensions import db
from ...models import AuditEvent, User
from ...policy import Action
from ...services.audit import record_event
from ...services.audit_anchors import chain_summaries, check_audit_log
from ..access import covers_every_county, managed_area_ids, permission_required, visible_county_ids
from ..params import ID_MAX, database_int, paginate
from .presenting import SYSTEM_ACTORS, Presenter

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

# Reads of personal data in full and every export, as one choice of the action filter.
SENSITIVE = "sensitive"
SENSITIVE_ACTIONS = (AuditAction.VIEW_PERSONAL_DATA, AuditAction.VIEW_FULL, AuditAction.EXPORT)
SENSITIVE_LABEL = "查看个人信息与导出（全部）"
FILTER_KEYS = ("user", "action", "object_type", "object_id", "since", "until")
EXPORT_HEADERS = ("事件编号", county_time_heading("时间"), "操作人", "地址", "动作", "对象类型", "对象编号",
                  "变更", f"变更明细{JSON_COLUMN}", "哈希")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_BATCH = 1000


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _filters() -> dict[str, str]:
    return {key: request.args.get(key, "").strip() for key in FILTER_KEYS}


def filtered_events(filters: dict[str, str]) -> Select:
    """Events matching the filters (user, action, object type and id, county days), newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if not covers_every_county():
        # The chains of the reader's counties, and in the city chain (rows of no county, and every
        # event from before the counties) those of the users of the reader's area and below; the
        # system's own city-chain events are read by those above every county.
        stmt = stmt.where(or_(
            AuditEvent.county_id.in_(visible_county_ids()),
            AuditEvent.county_id.is_(None)
            & AuditEvent.user_id.in_(select(User.id).where(User.area_id.in_(managed_area_ids())))))
    user = filters["user"]
    if user in SYSTEM_ACTORS:
        stmt = stmt.where(AuditEvent.user_id.is_(None), AuditEvent.actor == user)
    elif user:
        try:
            stmt = stmt.where(AuditEvent.user_id == database_int(user))
        except ValueError:
            stmt = stmt.where(False)
    if filters["action"] == SENSITIVE:
        stmt = stmt.where(AuditEvent.action.in_([str(action) for action in SENSITIVE_ACTIONS]))
    elif filters["action"]:
        stmt = stmt.where(AuditEvent.action == filters["action"])
    if filters["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == filters["object_id"])
    if since := _day(filters["since"]):
        stmt = stmt.where(AuditEvent.occurred_at >= day_starts_at(since))
    if until := _day(filters["until"]):
        stmt = stmt.where(AuditEvent.occurred_at < day_starts_at(until + timedelta(days=1)))
    return stmt


def _users() -> list[User]:
    """The users who appear in the log, by name."""
    return db.session.execute(select(User).where(
        User.id.in_(select(AuditEvent.user_id).where(AuditEvent.user_id.is_not(None)).distinct()),
        User.area_id.in_(managed_area_ids()))
        .order_by(User.display_name, User.id)).scalars().all()


def describe_filters(filters: dict[str, str]) -> str:
    """The filters in words, as the export's audit event keeps them: "动作：导出；起：2026-12-01"."""
    parts = []
    if user := filters["user"]:
        found = db.session.get(User, int(user)) if user.isdigit() and int(user) <= ID_MAX else None
        parts.append("操作人：" + (SYSTEM_ACTORS.get(user) or (f"{found.display_name}（{found.username}）" if found
                                                             else f"用户 #{user}")))
    if action := filters["action"]:
        parts.append("动作：" + (SENSITIVE_LABEL if action == SENSITIVE else
                               AuditAction(action).label if action in AuditAction.codes() else action))
    if filters["object_type"]:
        kind = filters["object_type"]
        parts.append("对象类型：" + (AuditObject(kind).label if kind in AuditObject.codes() else kind))
    for key, word in (("object_id", "对象编号"), ("since", "起"), ("until", "止")):
        if filters[key]:
            parts.append(f"{word}：{filters[key]}")
    return "；".join(parts) or "全部"


@bp.route("/")
@permission_required(Action.READ_AUDIT_LOG)
def index():
    filters = _filters()
    page = paginate(filtered_events(filters))
    object_types = db.session.execute(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)).scalars().all()
    chains, root_anchor = chain_summaries(None if covers_every_county() else visible_county_ids(),
                                          city=covers_every_county())
    return render_template("audit_log/index.html", page=page, filters=filters, object_types=object_types,
                           chains=chains, root_anchor=root_anchor,
                           users=_users(), system_actors=SYSTEM_ACTORS, sensitive=SENSITIVE,
                           sensitive_label=SENSITIVE_LABEL,
                           shown=Presenter(page.items),
                           export_args={key: value for key, value in filters.items() if value})


@bp.route("/export.<any(xlsx, csv):kind>")
@permission_required(Action.EXPORT_AUDIT_DATA)
def export(kind: str):
    filters = _filters()
    # The events up to now: the export's own event, and any written meanwhile, come after.
    last = db.session.execute(select(func.max(AuditEvent.id))).scalar_one() or 0
    stmt = filtered_events(filters).where(AuditEvent.id <= last)
    rows = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    record_event("export", "AuditLog", None, {"format": kind, "filters": describe_filters(filters), "rows": rows})
    db.session.commit()
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    table = XlsxTable(spool, "审计日志", EXPORT_HEADERS) if kind == "xlsx" else CsvTable(spool, EXPORT_HEADERS)
    batch: list[AuditEvent] = []
    for event in db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH)).scalars():
        batch.append(event)
        if len(batch) == EXPORT_BATCH:
            _write(table, batch)
            batch = []
    _write(table, batch)
    table.close()
    spool.seek(0)
    name = f"审计日志-{county_today().isoformat()}.{kind}"
    mimetype = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    return send_file(spool, mimetype=mimetype, as_attachment=True, download_name=name)


def _write(table, events: list[AuditEvent]) -> None:
    shown = Presenter(events)
    for event in events:
        table.write((event.id, county_wall_time(event.occurred_at), shown.actor(event), event.ip_address or "",
                     shown.action(event), label_of(AuditObject, event.object_type), event.object_id or "",
                     shown.changes_text(event), json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
                     event.hash))


@bp.route("/verify")
@permission_required(Action.READ_AUDIT_LOG)
def verify():
    """The whole log's verification; a reader of some counties sees their chains and problems,
    and of the others' only how many problems there are (no other county's name or counts)."""
    report = check_audit_log()
    hidden = 0
    if not covers_every_county():
        shown = set(visible_county_ids())
        names = {report.names.get(county) for county in shown}
        kept = [problem for problem in report.problems if problem.chain is None or problem.chain in names]
        hidden = len(report.problems) - len(kept)
        report.problems = kept
        report.heads = {county: head for county, head in report.heads.items() if county in shown}
        report.checked = sum(head.events for head in report.heads.values())
    return render_template("audit_log/verify.html", report=report, hidden_problems=hidden)
