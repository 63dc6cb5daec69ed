from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import AssignmentReason, AssignmentStatus, ServiceType, label_of
from ..extensions import db
from .base import TimestampMixin, one_of
from .county import ContractCounty


class Assignment(ContractCounty, TimestampMixin, db.Model):
    """任务: one piece of work the bureau issued to a contract for one subject."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_contract_status_due", "contract_id", "status", "due_date"),
        Index("ix_assignments_due_date", "due_date"),
        # A subject's assignments, and the list filtered by township (and status) newest due first:
        # with the status and due date in the index, neither the count nor the sort reads the rows.
        Index("ix_assignments_subject_status_due", "subject_id", "status", "due_date"),
        one_of("service_type", ServiceType),
        one_of("status", AssignmentStatus),
        one_of("reason", AssignmentReason),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    service_type: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    required_visits: Mapped[int] = mapped_column(default=1)
    completed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))
    # The contractor's field worker the visit is given to (the field app shows it to them only).
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("field_workers.id"), index=True)
    # Why it was issued, when not the contract's ordinary work: a re-assessment on a reported
    # change of condition (`services.reassessment`); NULL for the ordinary ones.
    reason: Mapped[str | None] = mapped_column(String(16))

    contract: Mapped[Contract] = relationship()  # noqa: F821
    subject: Mapped[Subject] = relationship()  # noqa: F821
    worker: Mapped[FieldWorker | None] = relationship()  # noqa: F821

    @property
    def status_label(self) -> str:
        return label_of(AssignmentStatus, self.status)

    @property
    def reason_label(self) -> str:
        return label_of(AssignmentReason, self.reason) if self.reason else ""

    @property
    def service_label(self) -> str:
        return label_of(ServiceType, self.service_type)
