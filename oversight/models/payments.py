from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..domain.vocabulary import InstallmentCondition, InstallmentKind, label_of
from ..extensions import db
from .base import one_of


class Installment(db.Model):
    """付款分期: one installment of a contract's payment schedule (its status is derived, see
    `domain/installments.py`); paying it records a PaymentRecord."""

    __tablename__ = "installments"
    __table_args__ = (one_of("kind", InstallmentKind), one_of("condition", InstallmentCondition))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    # One of the two for an advance or progress payment; neither for the performance share.
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    share_bp: Mapped[int | None]
    condition: Mapped[str] = mapped_column(String(16))
    year: Mapped[int | None]
    due_on: Mapped[date | None]
    held_reason: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None]
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_on: Mapped[date | None]
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment_records.id"))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship()  # noqa: F821
    payment: Mapped[PaymentRecord | None] = relationship()  # noqa: F821

    @property
    def kind_label(self) -> str:
        return label_of(InstallmentKind, self.kind)

    @property
    def condition_label(self) -> str:
        return label_of(InstallmentCondition, self.condition)
