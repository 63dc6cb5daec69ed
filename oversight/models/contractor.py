from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin
from .county import CountyScoped


class Contractor(CountyScoped, TimestampMixin, db.Model):
    """承接主体: a social-work organisation or other third party under contract."""

    __tablename__ = "contractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contact_person: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str] = mapped_column(String(11))

    workers: Mapped[list[FieldWorker]] = relationship(
        back_populates="contractor", order_by="FieldWorker.worker_no"
    )
    contracts: Mapped[list[Contract]] = relationship(  # noqa: F821
        back_populates="contractor", order_by="Contract.code"
    )


class FieldWorker(TimestampMixin, db.Model):
    """A registered field worker (服务人员) of a contractor, known by 工号."""

    __tablename__ = "field_workers"
    __table_args__ = (UniqueConstraint("contractor_id", "worker_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractors.id"), index=True)
    worker_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(11))
    active: Mapped[bool] = mapped_column(default=True)

    contractor: Mapped[Contractor] = relationship(back_populates="workers")
