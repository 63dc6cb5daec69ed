"""Draws, spot checks, rectification notices, callbacks and complaints (SPEC section 5)."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..clock import local_day
from ..domain.rectification import format_notice_number

from ..extensions import db
from ..domain.vocabulary import (
    CallAnswerer,
    CallbackStatus,
    CallOutcome,
    CheckMethod,
    ComplaintSource,
    ComplaintStatus,
    DrawPurpose,
    NoticeOutcome,
    NoticeStatus,
    ServiceType,
    Stratum,
)
from .base import one_of, utcnow
from .county import ContractCounty


class SamplingDraw(ContractCounty, db.Model):
    """A frozen population, the rule and seed, and the sample drawn from them."""

    __tablename__ = "sampling_draws"
    __table_args__ = (Index("ix_sampling_draws_scope", "contract_id", "quarter", "purpose"),
                      one_of("purpose", DrawPurpose), one_of("service_type", ServiceType))

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    quarter: Mapped[str] = mapped_column(String(6))  # "2025Q3"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    service_type: Mapped[str] = mapped_column(String(32))
    rule: Mapped[dict] = mapped_column(JSON)  # the parameters the draw was made with
    plan: Mapped[dict] = mapped_column(JSON)  # {"kind", "n", "ac", "re", …}
    seed: Mapped[str] = mapped_column(String(128))
    risk_weighted: Mapped[bool] = mapped_column(default=False)
    # The frozen population, ordered by record id: [[record_id, worker_no, flagged, targeted], …]
    # — everything the draw depended on, so that it can be re-computed from this row alone.
    population: Mapped[list] = mapped_column(JSON)
    population_sha256: Mapped[str] = mapped_column(String(64))
    strata: Mapped[dict] = mapped_column(JSON, default=dict)  # stratum → {"population": N, "sample": n}
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()  # noqa: F821
    items: Mapped[list[DrawItem]] = relationship(back_populates="draw", order_by="DrawItem.position")


class DrawItem(db.Model):
    __tablename__ = "draw_items"
    __table_args__ = (UniqueConstraint("draw_id", "record_id"), one_of("stratum", Stratum))

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sampling_draws.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(32))
    position: Mapped[int]
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    draw: Mapped[SamplingDraw] = relationship(back_populates="items")
    record: Mapped[CompletionRecord] = relationship()  # noqa: F821
    assigned_to: Mapped[User | None] = relationship()  # noqa: F821


class SpotCheck(db.Model):
    """抽查复检: the supervisor's blind re-check of one drawn record."""

    __tablename__ = "spot_checks"
    __table_args__ = (one_of("method", CheckMethod),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_item_id: Mapped[int] = mapped_column(ForeignKey("draw_items.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    checker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(16))
    checked_on: Mapped[date]
    values: Mapped[dict] = mapped_column(JSON)  # the re-measured values
    comparison: Mapped[dict] = mapped_column(JSON)  # Comparison.as_dict()
    fields_compared: Mapped[int]
    fields_differing: Mapped[int]
    passed: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draw_item: Mapped[DrawItem] = relationship()
    record: Mapped[CompletionRecord] = relationship()  # noqa: F821
    checker: Mapped[User] = relationship()  # noqa: F821
    contract: Mapped[Contract] = relationship()  # noqa: F821
    # Read-only: attachments are added through services.attachments.
    attachments: Mapped[list[Attachment]] = relationship(  # noqa: F821
        primaryjoin="and_(Attachment.owner_type == 'spot_check', foreign(Attachment.owner_id) == SpotCheck.id)",
        viewonly=True, order_by="Attachment.id")


class RectificationNotice(db.Model):
    """整改通知 for a failed spot check: the contractor answers, the supervisor closes it.

    One row per round: a response not accepted closes the round and reissues the notice as the
    next (`previous_id`); past the last round it escalates to the admins. Every round has its
    number, unique in its county year (assigned on insert, see `_number_new_notices`).
    """

    __tablename__ = "rectification_notices"
    __table_args__ = (one_of("status", NoticeStatus), one_of("outcome", NoticeOutcome),
                      UniqueConstraint("year", "sequence"))

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id"), index=True)
    round: Mapped[int] = mapped_column(default=1, server_default="1")
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_notices.id"), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(64), unique=True)
    escalated_at: Mapped[datetime | None]
    escalation_handled_at: Mapped[datetime | None]
    escalation_handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalation_note: Mapped[str | None] = mapped_column(Text)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[date]
    requirement: Mapped[str] = mapped_column(Text)
    # open → responded → closed; overdue is derived from the deadline (and marked by the daily job)
    status: Mapped[str] = mapped_column(String(16), default="open")
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None]
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # UTC like every timestamp; "closed by the deadline" compares its China (UTC+8) calendar day.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    closing_note: Mapped[str | None] = mapped_column(Text)

    spot_check: Mapped[SpotCheck] = relationship()
    contract: Mapped[Contract] = relationship()  # noqa: F821
    previous: Mapped[RectificationNotice | None] = relationship(remote_side=[id])


@event.listens_for(Session, "before_flush")
def _number_new_notices(session: Session, _flush_context, _instances) -> None:
    """Give each new notice the next number of its county year (〔2026〕整改第003号)."""
    new = [obj for obj in session.new if isinstance(obj, RectificationNotice) and obj.number is None]
    if not new:
        return
    prefix = current_app.config.get("NOTICE_NUMBER_PREFIX") or "" if has_app_context() else ""
    taken: dict[int, int] = {}
    with session.no_autoflush:
        for notice in sorted(new, key=lambda n: (n.issued_at or utcnow(), id(n))):
            notice.issued_at = notice.issued_at or utcnow()
            year = local_day(notice.issued_at).year
            if year not in taken:
                taken[year] = session.execute(select(func.coalesce(func.max(RectificationNotice.sequence), 0))
                                              .where(RectificationNotice.year == year)).scalar_one()
            taken[year] += 1
            notice.year, notice.sequence = year, taken[year]
            notice.number = format_notice_number(year, taken[year], prefix)


class Callback(db.Model):
    """电话回访 of one drawn subject about one record."""

    __tablename__ = "callbacks"
    __table_args__ = (one_of("status", CallbackStatus), one_of("answered_by", CallAnswerer))

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_item_id: Mapped[int] = mapped_column(ForeignKey("draw_items.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    # pending → answered | unreachable (three attempts without an answer) | refused
    status: Mapped[str] = mapped_column(String(16), default="pending")
    service_confirmed: Mapped[bool | None]
    satisfaction: Mapped[int | None]  # 1..5
    # 本人 | 家属 | 其他 (CallAnswerer); NULL: answered before the answerer was recorded (未记录)
    answered_by: Mapped[str | None] = mapped_column(String(16))
    attitude: Mapped[str | None] = mapped_column(String(200))
    complaint: Mapped[str | None] = mapped_column(Text)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]

    attempts: Mapped[list[CallbackAttempt]] = relationship(back_populates="callback", order_by="CallbackAttempt.id")
    draw_item: Mapped[DrawItem] = relationship()
    record: Mapped[CompletionRecord] = relationship()  # noqa: F821
    subject: Mapped[Subject] = relationship()  # noqa: F821


class CallbackAttempt(db.Model):
    __tablename__ = "callback_attempts"
    __table_args__ = (one_of("outcome", CallOutcome),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(8))
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    callback: Mapped[Callback] = relationship(back_populates="attempts")
    operator: Mapped[User] = relationship()  # noqa: F821


class Complaint(db.Model):
    """A complaint (from a callback or a walk-in) against a record or a worker."""

    __tablename__ = "complaints"
    __table_args__ = (one_of("source", ComplaintSource), one_of("status", ComplaintStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    # callback | walk_in | error_rate (a worker past the re-check threshold of the check results)
    source: Mapped[str] = mapped_column(String(16))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("completion_records.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("field_workers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # open → targeted (its worker's records went into a draw) → closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    targeted_draw_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_draws.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship()  # noqa: F821
    record: Mapped[CompletionRecord | None] = relationship()  # noqa: F821
    worker: Mapped[FieldWorker | None] = relationship()  # noqa: F821
