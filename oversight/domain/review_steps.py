"""The steps a quarterly review and an annual evaluation share (SPEC section 6): a draft is
published, the contractor agrees or disputes within its comment window (silence after the
deadline counts as agreement), a dispute is settled, and the record is approved and locked.

The functions read any record with `status` and `comment_deadline`, so both kinds follow one
set of rules.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .vocabulary import Position


class StepRefused(ValueError):
    """A step the record's state or the input does not allow, with the Chinese reason."""


def window_open(record: Any, today: date) -> bool:
    """Whether the contractor may still agree or disagree."""
    return record.status == "published" and today <= record.comment_deadline


def comment_outcome(record: Any, today: date, position: str, text: str | None) -> tuple[str, str | None]:
    """The status a published record's comment moves it to, and the comment's text (None if
    empty); refused after the deadline, without a position, or disagreeing without reasons."""
    if not window_open(record, today):
        raise StepRefused(f"意见期已于 {record.comment_deadline} 截止，视为同意")
    if position not in Position.codes():
        raise StepRefused("请选择同意或不同意")
    text = (text or "").strip()
    if position == "disagree" and not text:
        raise StepRefused("不同意时必须写明理由")
    return ("agreed" if position == "agree" else "disputed"), text or None


def approval_blocker(record: Any, today: date) -> str | None:
    """Why the record cannot be approved yet (None when it can)."""
    if record.status in ("agreed", "settled"):
        return None
    if record.status == "published":
        return None if today > record.comment_deadline else (
            f"承接方意见期至 {record.comment_deadline}，承接方同意或期满后方可审定")
    return {
        "draft": "草稿须先发布给承接方确认",
        "disputed": "承接方有异议，须先由管理员裁定",
        "approved": "已审定",
    }[record.status]
