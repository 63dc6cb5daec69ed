"""Corrections (更正申请) of completion records and the versions they leave behind."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..domain.vocabulary import CorrectionStatus, label_of
from ..extensions import db
from .base import one_of


class CorrectionRequest(db.Model):
    """A contractor's request to correct cells of one stored record; a supervisor decides.

    pending → approved (the record takes the new values, a new version is kept) | refused.
    `changes` lists the corrected template cells: [{"key", "header", "before", "after"}].
    """

    __tablename__ = "correction_requests"
    __table_args__ = (one_of("status", CorrectionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    changes: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    record: Mapped[CompletionRecord] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    @property
    def status_label(self) -> str:
        return label_of(CorrectionStatus, self.status)


class CompletionRecordVersion(db.Model):
    """One version of a completion record's values. Written when a correction is approved: the
    values before it (version 1 is the record as first stored) and after it. The record's row
    always holds the newest version, which every draw and score reads."""

    __tablename__ = "completion_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    version: Mapped[int]
    values: Mapped[dict] = mapped_column(JSON)  # the record's columns, JSON values (dates ISO)
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("correction_requests.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    correction: Mapped[CorrectionRequest | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()  # noqa: F821
