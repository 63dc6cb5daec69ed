"""Re-assessment on a change of condition (issue 14): the reports, and the stated dates from which
a changed care tier takes effect."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import ConditionReporter, label_of
from ..extensions import db
from .base import TimestampMixin, one_of
from .county import ContractCounty


class ConditionReport(ContractCounty, TimestampMixin, db.Model):
    """情况变化报告: who reported what change of a special-hardship person, on which day, and the
    re-assessment assignment it created (or the open one it joined); of its contract's county."""

    __tablename__ = "condition_reports"
    __table_args__ = (one_of("reporter_kind", ConditionReporter),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    reported_on: Mapped[date]
    reporter_kind: Mapped[str] = mapped_column(String(24))
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    subject: Mapped[Subject] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
    assignment: Mapped[Assignment] = relationship()  # noqa: F821
    entered_by: Mapped[User | None] = relationship()  # noqa: F821

    @property
    def reporter_label(self) -> str:
        return label_of(ConditionReporter, self.reporter_kind)


class TierEffectiveDate(TimestampMixin, db.Model):
    """生效日期 stated for the tier an assessment record changed to; without one the change takes
    effect on the default day (`domain.reassessment.default_effective_date`)."""

    __tablename__ = "tier_effective_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), unique=True)
    effective_from: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    stated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    stated_by: Mapped[User | None] = relationship()  # noqa: F821
