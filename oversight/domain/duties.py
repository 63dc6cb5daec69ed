"""Separation of duties (issue 10, point 7): whoever drafted a figure does not settle or approve it."""
from __future__ import annotations


def drafter_conflict(drafted_by_id: int | None, user_id: int) -> str | None:
    """Why `user_id` may not settle or approve what `drafted_by_id` computed (None when they may).

    A draft the scheduler computed (no drafter) may be settled and approved by any admin.
    """
    if drafted_by_id is not None and drafted_by_id == user_id:
        return "本人计算的草稿不能由本人裁定或审定，须由另一名管理员办理"
    return None
