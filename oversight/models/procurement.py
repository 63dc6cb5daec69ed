"""Procurement projects (采购项目) up to their award: lines put out to tender, bids, the scoring
committee and its scores; the award creates the contract (`contract_id`)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import ProcurementMethod, ServiceType, TenderStatus, label_of
from ..extensions import db
from .base import TimestampMixin, one_of
from .county import CountyScoped


class ProcurementProject(CountyScoped, TimestampMixin, db.Model):
    """采购项目: a budgeted purchase put out to tender, evaluated by 综合评分法 and awarded."""

    __tablename__ = "procurement_projects"
    __table_args__ = (one_of("procurement_method", ProcurementMethod), one_of("status", TenderStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    budget_line: Mapped[str] = mapped_column(String(200))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    procurement_method: Mapped[str] = mapped_column(String(16))
    # 价格分值 in hundredths of a point (3000 = 30 points), exact on SQLite too.
    price_points_centi: Mapped[int] = mapped_column(default=3000)
    status: Mapped[str] = mapped_column(String(16), default=TenderStatus.DRAFT)
    announced_on: Mapped[date | None]
    bid_opening_on: Mapped[date | None]
    awarded_on: Mapped[date | None]
    # The term and performance share the awarded contract will have.
    term_start: Mapped[date]
    term_end: Mapped[date]
    performance_share_bp: Mapped[int] = mapped_column(default=3000)
    # The committee's recorded order of bids tied on everything (抽签), and its note.
    tie_decision: Mapped[list | None] = mapped_column(JSON)
    tie_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    evaluation: Mapped[dict | None] = mapped_column(JSON)  # the recorded result (domain summary)
    evaluated_at: Mapped[datetime | None]
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lines: Mapped[list[ProcurementLine]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProcurementLine.service_type")
    bids: Mapped[list[TenderBid]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="TenderBid.id")
    items: Mapped[list[TenderScoringItem]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="TenderScoringItem.sequence")
    evaluators: Mapped[list[TenderEvaluator]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="TenderEvaluator.sequence")
    contract: Mapped[Contract | None] = relationship()  # noqa: F821

    @property
    def winning_bid(self) -> TenderBid | None:
        return next((bid for bid in self.bids if bid.awarded), None)

    @property
    def method_label(self) -> str:
        return label_of(ProcurementMethod, self.procurement_method)

    @property
    def status_label(self) -> str:
        return label_of(TenderStatus, self.status)


class ProcurementLine(db.Model):
    """A service line put out to tender, with its yearly target (the contract's line at award)."""

    __tablename__ = "procurement_lines"
    __table_args__ = (UniqueConstraint("project_id", "service_type"), one_of("service_type", ServiceType))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("procurement_projects.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    annual_target: Mapped[int]
    visits_per_month: Mapped[int] = mapped_column(default=1)

    project: Mapped[ProcurementProject] = relationship(back_populates="lines")

    @property
    def label(self) -> str:
        return label_of(ServiceType, self.service_type)


class TenderBid(TimestampMixin, db.Model):
    """投标: one bidder (a registered contractor) and its price; invalid when it failed the
    qualification or compliance review (then neither benchmark nor ranked)."""

    __tablename__ = "tender_bids"
    __table_args__ = (UniqueConstraint("project_id", "contractor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("procurement_projects.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractors.id"), index=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    valid: Mapped[bool] = mapped_column(default=True)
    invalid_reason: Mapped[str | None] = mapped_column(Text)
    awarded: Mapped[bool] = mapped_column(default=False)

    project: Mapped[ProcurementProject] = relationship(back_populates="bids")
    contractor: Mapped[Contractor] = relationship()  # noqa: F821


class TenderScoringItem(db.Model):
    """评分项: a technical or business item with its maximum points (hundredths of a point)."""

    __tablename__ = "tender_scoring_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("procurement_projects.id"), index=True)
    sequence: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    max_points_centi: Mapped[int]
    technical: Mapped[bool] = mapped_column(default=True)
    # Fed from the bidder's past performance (履约档案): each member's sheet is prefilled with it.
    past_performance: Mapped[bool] = mapped_column(default=False)

    project: Mapped[ProcurementProject] = relationship(back_populates="items")


class TenderEvaluator(db.Model):
    """评标委员会成员: one member of the project's evaluation committee."""

    __tablename__ = "tender_evaluators"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("procurement_projects.id"), index=True)
    sequence: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))

    project: Mapped[ProcurementProject] = relationship(back_populates="evaluators")


class TenderScore(db.Model):
    """One member's points (hundredths) for one item of one bid."""

    __tablename__ = "tender_scores"
    __table_args__ = (UniqueConstraint("evaluator_id", "bid_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("procurement_projects.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("tender_evaluators.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("tender_bids.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("tender_scoring_items.id"), index=True)
    points_centi: Mapped[int]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
