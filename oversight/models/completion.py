from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..domain.vocabulary import BatchStatus, RecordSource, ServiceType
from .base import one_of, utcnow
from .county import ContractCounty


class UploadBatch(db.Model):
    """One uploaded completion log: accepted whole or rejected whole."""

    __tablename__ = "upload_batches"
    __table_args__ = (one_of("service_type", ServiceType), one_of("status", BatchStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # pending → processing → accepted | rejected | failed (unreadable file or crash)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_processed: Mapped[int] = mapped_column(default=0)
    rows_accepted: Mapped[int] = mapped_column(default=0)
    # Rows carrying only the prefilled columns (任务编号, 姓名, 身份证号): left out, not checked.
    rows_skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(default=0)
    # The first errors, for the page; the full list is in the error workbook on disk.
    errors: Mapped[list] = mapped_column(JSON, default=list)
    error_report_path: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None]
    # The lease of the queue worker processing the batch: who ("host:pid"), its last sign of
    # life, and how many times the batch was started (a dead worker's batch is started again).
    worker: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    contract: Mapped[Contract] = relationship()  # noqa: F821
    uploaded_by: Mapped[User | None] = relationship()  # noqa: F821


class CompletionRecord(ContractCounty, db.Model):
    """服务记录: one visit, from an uploaded log row or a form entry (SPEC section 4)."""

    __tablename__ = "completion_records"
    __table_args__ = (
        UniqueConstraint("assignment_id", "service_date", "start_time"),
        Index("ix_completion_records_contract_type_date", "contract_id", "service_type", "service_date"),
        Index("ix_completion_records_worker_date", "worker_id", "service_date"),
        # The records list's order (newest visit first), overall and within a contract.
        Index("ix_completion_records_visit_order", "service_date", "start_time", "id"),
        Index("ix_completion_records_contract_visit_order", "contract_id", "service_date", "start_time", "id"),
        one_of("service_type", ServiceType),
        one_of("source", RecordSource),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    # Denormalised from the assignment: every draw and score filters on them.
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    service_type: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("upload_batches.id"), index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    excel_row: Mapped[int | None]
    # app (the field app / API), upload (a log file) or form (the visit form of the records page).
    source: Mapped[str] = mapped_column(String(8), default="upload")

    service_date: Mapped[date]
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end_time: Mapped[str] = mapped_column(String(5))
    duration_minutes: Mapped[int]
    worker_id: Mapped[int] = mapped_column(ForeignKey("field_workers.id"))
    longitude: Mapped[float | None]
    latitude: Mapped[float | None]
    remark: Mapped[str | None] = mapped_column(String(500))

    # 家计调查
    household_size: Mapped[int | None]
    annual_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    wage_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    business_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    property_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    transfer_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    other_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    financial_assets_fen: Mapped[int | None] = mapped_column(BigInteger)
    property_count: Mapped[int | None]
    vehicle_count: Mapped[int | None]
    survey_conclusion: Mapped[str | None] = mapped_column(String(8))
    per_capita_monthly_income_fen: Mapped[int | None] = mapped_column(BigInteger)

    # 自理能力评估
    eating: Mapped[bool | None]
    dressing: Mapped[bool | None]
    transfer: Mapped[bool | None]
    toileting: Mapped[bool | None]
    walking: Mapped[bool | None]
    bathing: Mapped[bool | None]
    conclusion: Mapped[str | None] = mapped_column(String(16))
    fails: Mapped[int | None]

    # 照料护理
    care_items: Mapped[str | None] = mapped_column(String(200))  # joined by "、"
    signed: Mapped[bool | None]

    # [{"code": …, "reason": …}] computed on import; `flagged` mirrors "any flag" for the draws.
    anomaly_flags: Mapped[list] = mapped_column(JSON, default=list)
    flagged: Mapped[bool] = mapped_column(default=False)

    assignment: Mapped[Assignment] = relationship()  # noqa: F821
    worker: Mapped[FieldWorker] = relationship()  # noqa: F821
    batch: Mapped[UploadBatch | None] = relationship()
