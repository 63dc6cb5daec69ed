"""Imported verification data (核对平台 results, death records) and the contradictions it shows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import BatchStatus, EvidenceFlagKind, EvidenceFlagStatus, ServiceType, VerificationKind
from ..extensions import db
from .base import one_of, utcnow


class VerificationImport(db.Model):
    """One uploaded verification file: accepted whole (its flags raised) or rejected whole."""

    __tablename__ = "verification_imports"
    __table_args__ = (one_of("kind", VerificationKind), one_of("status", BatchStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # accepted | rejected (bad cells, or the file was imported before) | failed (unreadable)
    status: Mapped[str] = mapped_column(String(16))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_matched: Mapped[int] = mapped_column(default=0)  # rows of a person or household with records
    flags_raised: Mapped[int] = mapped_column(default=0)
    flags_known: Mapped[int] = mapped_column(default=0)  # contradictions an earlier import already flagged
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # the first ones; all are in the marked copy
    error_report_path: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(String(500))

    uploaded_by: Mapped[User | None] = relationship()  # noqa: F821


class EvidenceFlag(db.Model):
    """A contradiction between one stored record and imported verification data (核对疑点)."""

    __tablename__ = "evidence_flags"
    __table_args__ = (
        UniqueConstraint("record_id", "kind"),
        Index("ix_evidence_flags_contract_status", "contract_id", "status"),
        one_of("kind", EvidenceFlagKind), one_of("status", EvidenceFlagStatus), one_of("service_type", ServiceType),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("verification_imports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    # Denormalised from the record: the next spot-check draw of the contract and service takes it.
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    service_type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # open → targeted (its record went into a spot-check draw's targeted stratum) → closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    targeted_draw_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_draws.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closing_note: Mapped[str | None] = mapped_column(Text)

    verification_import: Mapped[VerificationImport] = relationship()
    record: Mapped[CompletionRecord] = relationship()  # noqa: F821
    subject: Mapped[Subject] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
