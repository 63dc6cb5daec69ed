"""Shared column helpers."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, UTC

from sqlalchemy import CheckConstraint, Table
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.vocabulary import Labelled

# Set only while the demo replays past work (seeds/activity.py), so that every timestamp the
# services write reads the moment the step is meant to have happened.
_replayed_moment: ContextVar[datetime | None] = ContextVar("replayed_moment", default=None)


def utcnow() -> datetime:
    """Naive UTC now, the form every timestamp column stores (the replayed moment while one is set)."""
    return _replayed_moment.get() or datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def replayed_at(moment: datetime) -> Iterator[None]:
    """Within the block, `utcnow()` returns `moment` (naive UTC) in this context only."""
    token = _replayed_moment.set(moment)
    try:
        yield
    finally:
        _replayed_moment.reset(token)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def one_of(column: str, vocabulary: type[Labelled]) -> CheckConstraint:
    """CHECK that `column` holds a code of `vocabulary` (or NULL): ck_<table>_<column>."""
    codes = ", ".join(f"'{code}'" for code in vocabulary.codes())
    return CheckConstraint(f"{column} IN ({codes})", name=column, info={"column": column, "vocabulary": vocabulary})


def vocabulary_of(table: Table, column: str) -> type[Labelled] | None:
    """The vocabulary a column's CHECK constraint holds it to, if any."""
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint) and constraint.info.get("column") == column:
            return constraint.info["vocabulary"]
    return None
