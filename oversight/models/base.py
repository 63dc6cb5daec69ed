"""Shared column helpers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Table
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..domain.vocabulary import Labelled


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
