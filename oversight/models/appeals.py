"""Appeals of failed spot checks (申诉) and the deductions escalated notices propose (issue 10, points 7–8)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import AppealDecision, AppealStatus, CheckMethod, DeductionStatus
from ..extensions import db
from .base import one_of, utcnow


class Appeal(db.Model):
    """A contractor's appeal of one failed spot check, decided by a supervisor other than its checker.

    filed → (recheck_ordered → rechecked) → decided. The re-check (复核) is stored here, not as
    a SpotCheck: the drawn item keeps its one check, and the KPI reads the final verdict.
    """

    __tablename__ = "appeals"
    __table_args__ = (one_of("status", AppealStatus), one_of("decision", AppealDecision),
                      one_of("recheck_method", CheckMethod))

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id"), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="filed")
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)

    recheck_ordered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recheck_ordered_at: Mapped[datetime | None]
    recheck_assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recheck_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recheck_method: Mapped[str | None] = mapped_column(String(16))
    recheck_on: Mapped[date | None]
    recheck_values: Mapped[dict | None] = mapped_column(JSON)
    recheck_comparison: Mapped[dict | None] = mapped_column(JSON)
    recheck_fields_compared: Mapped[int | None]
    recheck_fields_differing: Mapped[int | None]
    recheck_passed: Mapped[bool | None]
    recheck_note: Mapped[str | None] = mapped_column(Text)

    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    # The verdict the KPI counts once decided (domain.appeals.final_verdict).
    final_passed: Mapped[bool | None]

    spot_check: Mapped[SpotCheck] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id])  # noqa: F821
    recheck_assigned_to: Mapped[User | None] = relationship(foreign_keys=[recheck_assigned_to_id])  # noqa: F821
    recheck_by: Mapped[User | None] = relationship(foreign_keys=[recheck_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821


class ProposedDeduction(db.Model):
    """A deduction an escalated rectification notice proposes for a contract's quarterly review;
    the supervisor confirms it (it becomes a manual item) or dismisses it, with a reason."""

    __tablename__ = "proposed_deductions"
    __table_args__ = (one_of("status", DeductionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(6))
    notice_id: Mapped[int] = mapped_column(ForeignKey("rectification_notices.id"), unique=True)
    points_centi: Mapped[int]  # negative: a deduction
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    review_item_id: Mapped[int | None] = mapped_column(ForeignKey("review_manual_items.id"))

    contract: Mapped[Contract] = relationship()  # noqa: F821
    notice: Mapped[RectificationNotice] = relationship()  # noqa: F821
    decided_by: Mapped[User | None] = relationship()  # noqa: F821
