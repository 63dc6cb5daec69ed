from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import ProcurementMethod, ServiceType, label_of
from ..extensions import db
from .base import TimestampMixin, one_of
from .county import CountyScoped

DEFAULT_SAMPLING_RULE = {"kind": "share", "share": "0.05", "floor": 5}


class Contract(CountyScoped, TimestampMixin, db.Model):
    """服务合同: what the bureau bought from one contractor, for which services and how much."""

    __tablename__ = "contracts"
    __table_args__ = (one_of("procurement_method", ProcurementMethod),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractors.id"), index=True)
    procurement_method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    term_start: Mapped[date]
    term_end: Mapped[date]
    # Basis points (3000 = 30 %) so that the share stays exact on SQLite too.
    performance_share_bp: Mapped[int] = mapped_column(default=3000)
    kpi_scheme_code: Mapped[str] = mapped_column(String(32), default="default")
    sampling_rule: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_SAMPLING_RULE))

    contractor: Mapped[Contractor] = relationship(back_populates="contracts")  # noqa: F821
    service_lines: Mapped[list[ServiceLine]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ServiceLine.service_type"
    )

    @property
    def service_types(self) -> list[str]:
        return [line.service_type for line in self.service_lines]

    def covers(self, day: date) -> bool:
        return self.term_start <= day <= self.term_end


class ServiceLine(db.Model):
    """One service type a contract covers, with its yearly target."""

    __tablename__ = "service_lines"
    __table_args__ = (UniqueConstraint("contract_id", "service_type"), one_of("service_type", ServiceType))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    annual_target: Mapped[int]
    # Care visits recur: how many visits one person receives each month.
    visits_per_month: Mapped[int] = mapped_column(default=1)

    contract: Mapped[Contract] = relationship(back_populates="service_lines")

    @property
    def label(self) -> str:
        return label_of(ServiceType, self.service_type)
