"""Corrections (更正申请) of stored completion records: what may be corrected, and how a record's
values read as the completion log's cells.

A correction is checked by the completion log's own rules (`completion_log.validate_log`): the
record's values are written back as the cells of its template row (`record_cells`), the
requested cells replace theirs, and the row is validated as if uploaded. The record's identity
(任务编号, 服务对象, 身份证号) is never corrected; the worker's name follows the 工号.

A record cannot be corrected once anything was decided on it (`correction_blocker`): it is in a
draw's frozen population (the draw must stay reproducible from what it froze), or its
assignment or the record itself is counted in a locked (approved) quarterly review. A date may
not be moved into a quarter already drawn either (`moved_into_drawn_quarter`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oversight.domain import self_care
from oversight.domain.completion_log import TEMPLATE_COLUMNS, Column
from oversight.domain.money import fen_to_yuan

# Identity columns: taken from the assignment, never corrected. The worker's name follows the 工号.
FIXED_KEYS = frozenset({"number", "subject_name", "id_number"})
DERIVED_KEYS = frozenset({"worker_name"})
# Indicators whose review figures list assignment ids; the others listed here list record ids.
ASSIGNMENT_INDICATORS = frozenset({"completion", "timeliness", "reassessment_on_time"})
RECORD_INDICATORS = frozenset({"spot_check_pass", "field_accuracy", "satisfaction", "authenticity"})

_YES_NO = {True: "是", False: "否"}
_ABLE = {True: "能", False: "不能"}


class CorrectionRefused(ValueError):
    """A correction that may not be requested or decided; the message is Chinese, for the user."""


def correctable_columns(service_type: str) -> tuple[Column, ...]:
    """The template columns a contractor may ask to correct, in the template's order."""
    return tuple(column for column in TEMPLATE_COLUMNS[service_type]
                 if column.key not in FIXED_KEYS and column.key not in DERIVED_KEYS)


def _text(key: str, value: Any) -> str:
    """One stored value as the template's cell holds it."""
    if value is None:
        return ""
    if key.endswith("_fen"):
        return str(fen_to_yuan(int(value)))
    if isinstance(value, bool):
        return (_ABLE if key in self_care.ITEM_KEYS else _YES_NO)[value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def record_cells(service_type: str, values: Mapping[str, Any], identity: Mapping[str, str]) -> dict[str, str]:
    """The template row (header → text) of a record's `values` (keys of `completion_log.RECORD_COLUMNS`,
    with `worker_no`); `identity` gives number, subject_name, id_number and worker_name."""
    row = {}
    for column in TEMPLATE_COLUMNS[service_type]:
        if column.key in identity:
            row[column.header] = identity[column.key] or ""
        else:
            row[column.header] = _text(column.key, values.get(column.key))
    return row


@dataclass(frozen=True)
class Change:
    """One corrected cell: the column's key and header, the text before and after."""

    key: str
    header: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "header": self.header, "before": self.before, "after": self.after}


def changed_cells(service_type: str, before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    """The template cells that differ, in the template's order (the worker's name included)."""
    return [Change(column.key, column.header, before.get(column.header, ""), after.get(column.header, ""))
            for column in TEMPLATE_COLUMNS[service_type]
            if column.key not in FIXED_KEYS and before.get(column.header, "") != after.get(column.header, "")]


@dataclass(frozen=True)
class FrozenDraw:
    """A stored draw of the record's contract and service: what it froze."""

    draw_id: int
    purpose_label: str
    quarter: str
    record_ids: frozenset[int]


@dataclass(frozen=True)
class LockedReview:
    """A locked quarterly review of the record's contract: its indicators' record ids by key (the
    `record_ids` of its typed figures, SPEC section 6)."""

    review_id: int
    quarter: str
    revision: int
    record_ids: Mapping[str, tuple[int, ...]]

    def counts(self, record_id: int, assignment_id: int) -> bool:
        """Whether the review counted the record, or the assignment it completes."""
        for key, ids in self.record_ids.items():
            if key in ASSIGNMENT_INDICATORS and assignment_id in ids:
                return True
            if key in RECORD_INDICATORS and record_id in ids:
                return True
        return False


def correction_blocker(record_id: int, assignment_id: int, draws: Iterable[FrozenDraw],
                       reviews: Iterable[LockedReview], pending_request_id: int | None = None) -> str | None:
    """Why the record cannot be corrected now, or None when it can."""
    for draw in sorted(draws, key=lambda found: found.draw_id):
        if record_id in draw.record_ids:
            return (f"该记录已进入 {draw.quarter} {draw.purpose_label}抽样 #{draw.draw_id} 的冻结总体，"
                    "抽样须能按冻结时的数据复核，不能更正")
    for review in sorted(reviews, key=lambda found: (found.quarter, found.revision)):
        if review.counts(record_id, assignment_id):
            return (f"该记录已计入已审定锁定的 {review.quarter} 季度考核（第{review.revision}版），"
                    "不能更正；如考核有误，请联系局方修订考核")
    if pending_request_id is not None:
        return f"该记录已有待审核的更正申请 #{pending_request_id}，请等待审核结果"
    return None


def moved_into_drawn_quarter(new_day: dt.date, old_day: dt.date, drawn_quarters: Iterable[str],
                             quarter_of_day) -> str | None:
    """Why a corrected service date may not be used: it moves the record into a quarter already drawn."""
    old_quarter, new_quarter = str(quarter_of_day(old_day)), str(quarter_of_day(new_day))
    if new_quarter != old_quarter and new_quarter in set(drawn_quarters):
        return f"更正后的服务日期在 {new_quarter}，该季度已经抽样，不能把记录移入已抽样的季度"
    return None
