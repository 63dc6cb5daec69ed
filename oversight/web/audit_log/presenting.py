"""Audit events as a person reads them: who (by name), what (labelled action and object), and
each change as a row of field label, value before and value after. The page and the export
share it; nothing here writes to or re-hashes the chain."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import DateTime, Table, select

from ...clock import format_county_time
from ...domain.field_labels import FIELD_LABELS, field_label
from ...domain.money import format_yuan
from ...domain.vocabulary import (
    AnchorReason,
    AuditAction,
    AuditObject,
    ServiceType,
    describe_sampling_rule,
    label_of,
)
from ...extensions import db
from ...models import AuditEvent, User
from ...models.base import vocabulary_of

SYSTEM_ACTORS = {"system": "系统", "anonymous": "未登录访客"}
# Coded values of events about something that is not a table (the audit log's own events).
_EVENT_VOCABULARIES = {("AuditLog", "reason"): AnchorReason}
# Coded values inside an event's summary, whatever the object.
_SUMMARY_VOCABULARIES = {"service_type": ServiceType}
# Values that are lists of field names.
_FIELD_LISTS = {"fields", "fields_compared", "fields_differing", "recheck_fields_compared", "recheck_fields_differing"}
_EMPTY = "空"
STRUCTURED = "（明细见 JSON 列）"


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


@dataclass(frozen=True)
class Shown:
    """One value as a person reads it; `data` marks a structured detail (a draw's strata, a
    check's comparison), shown as its JSON rather than guessed at."""

    text: str
    data: bool = False


@dataclass(frozen=True)
class Change:
    """One field of an event: its label, the value after (or as recorded) and, for an update, before."""

    label: str
    after: Shown
    before: Shown | None = None

    @property
    def is_update(self) -> bool:
        return self.before is not None


@cache
def table_of(object_type: str) -> Table | None:
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == object_type:
            return mapper.local_table
    return None


def _user_column(table: Table | None, field: str) -> bool:
    if table is None or field not in table.c:
        return False
    return any(key.column.table.name == User.__tablename__ for key in table.c[field].foreign_keys)


class Presenter:
    """Shows a page (or an export's slice) of events; user names are looked up once per batch."""

    def __init__(self, events: Iterable[AuditEvent]):
        events = list(events)
        ids = {event.user_id for event in events if event.user_id}
        for event in events:
            table = table_of(event.object_type)
            for field, value in (event.changes or {}).items():
                if _user_column(table, field):
                    parts = value.values() if isinstance(value, dict) else (value,)
                    ids.update(part for part in parts if isinstance(part, int))
        self.names: dict[int, str] = dict(db.session.execute(
            select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}

    def actor(self, event: AuditEvent) -> str:
        """"张三（zhangsan）", or 系统 / 未登录访客."""
        if event.user_id and event.user_id in self.names:
            return f"{self.names[event.user_id]}（{event.actor}）"
        return SYSTEM_ACTORS.get(event.actor, event.actor)

    @staticmethod
    def action(event: AuditEvent) -> str:
        return label_of(AuditAction, event.action)

    @staticmethod
    def object(event: AuditEvent) -> str:
        """"任务 #12" (or just the type when the event is about no single row)."""
        kind = label_of(AuditObject, event.object_type)
        return f"{kind} #{event.object_id}" if event.object_id else kind

    def changes(self, event: AuditEvent) -> list[Change]:
        """The event's fields in stored order; an update's as before and after."""
        table = table_of(event.object_type)
        shown = []
        for field, value in (event.changes or {}).items():
            label = field_label(event.object_type, field)
            if isinstance(value, dict) and set(value) == {"before", "after"}:
                shown.append(Change(label, self.value(event.object_type, table, field, value["after"]),
                                    self.value(event.object_type, table, field, value["before"])))
            else:
                shown.append(Change(label, self.value(event.object_type, table, field, value)))
        return shown

    def changes_text(self, event: AuditEvent) -> str:
        """The changes on one line, for a spreadsheet cell: "状态：已派发 → 已完成；备注：空 → 上午";
        a structured detail is pointed at the JSON column."""
        def text(shown: Shown) -> str:
            return STRUCTURED if shown.data else shown.text
        return "；".join(f"{change.label}：{text(change.before)} → {text(change.after)}" if change.is_update
                        else f"{change.label}：{text(change.after)}" for change in self.changes(event))

    def value(self, object_type: str, table: Table | None, field: str, value) -> Shown:
        if isinstance(value, (list, Mapping)) and value:
            if field == "sampling_rule" and isinstance(value, Mapping) and "kind" in value:
                return Shown(describe_sampling_rule(value))
            if isinstance(value, list) and field in _FIELD_LISTS and all(isinstance(item, str) for item in value):
                return Shown("、".join(field_label(object_type, item) for item in value))
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return Shown("、".join(value))
            if isinstance(value, Mapping) and all(key in FIELD_LABELS and _scalar(item) for key, item in value.items()):
                return Shown("；".join(f"{field_label(object_type, key)}：{self.scalar(object_type, None, key, item)}"
                                      for key, item in value.items()))
            return Shown(json.dumps(value, ensure_ascii=False, sort_keys=True), data=True)
        return Shown(self.scalar(object_type, table, field, value))

    def scalar(self, object_type: str, table: Table | None, field: str, value) -> str:
        if value is None or value == "" or value == [] or value == {}:
            return _EMPTY
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, int) and _user_column(table, field):
            return f"{self.names[value]}（#{value}）" if value in self.names else f"用户 #{value}"
        if isinstance(value, int) and field.endswith("_fen"):
            return format_yuan(value)
        if isinstance(value, int) and field.endswith("_bp"):
            return f"{value / 100:g}%"
        if isinstance(value, int) and field.endswith("_centi"):
            return f"{value / 100:.2f}"
        if table is not None and field in table.c and isinstance(table.c[field].type, DateTime) \
                and isinstance(value, str):
            try:  # a stored (UTC) timestamp, shown in county time
                return format_county_time(datetime.fromisoformat(value), "%Y-%m-%d %H:%M:%S", labelled=True)
            except ValueError:
                pass
        vocabulary = (vocabulary_of(table, field) if table is not None and field in table.c
                      else _EVENT_VOCABULARIES.get((object_type, field), _SUMMARY_VOCABULARIES.get(field)))
        return label_of(vocabulary, value) if vocabulary is not None else str(value)
