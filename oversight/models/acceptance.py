from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..domain.acceptance import AcceptanceFigures
from ..domain.identifiers import mask_name
from ..domain.vocabulary import AcceptanceConclusion, AcceptanceRole, AcceptanceStatus, label_of
from ..extensions import db
from .base import one_of


class ContractAcceptance(db.Model):
    """履约验收: one per contract and year; concluded by its team, with the figures it accepted
    against frozen in `figures` (AcceptanceFigures JSON)."""

    __tablename__ = "contract_acceptances"
    __table_args__ = (UniqueConstraint("contract_id", "year"), one_of("status", AcceptanceStatus),
                      one_of("conclusion", AcceptanceConclusion))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    year: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    conclusion: Mapped[str | None] = mapped_column(String(24))
    opinion: Mapped[str | None] = mapped_column(Text)
    accepted_on: Mapped[date | None]
    figures: Mapped[dict | None] = mapped_column(JSON)
    concluded_at: Mapped[datetime | None]
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship()  # noqa: F821
    concluded_by: Mapped[User | None] = relationship(foreign_keys=[concluded_by_id])  # noqa: F821
    members: Mapped[list[AcceptanceMember]] = relationship(
        back_populates="acceptance", cascade="all, delete-orphan", order_by="AcceptanceMember.id")

    @property
    def concluded(self) -> bool:
        return self.status == AcceptanceStatus.CONCLUDED

    @property
    def conclusion_label(self) -> str:
        return label_of(AcceptanceConclusion, self.conclusion) if self.conclusion else "未出具"

    @property
    def stored_figures(self) -> AcceptanceFigures | None:
        return AcceptanceFigures.from_json(self.figures) if self.figures else None


class AcceptanceMember(db.Model):
    """A member of an acceptance team, with the role they take (服务对象代表 among them)."""

    __tablename__ = "acceptance_members"
    __table_args__ = (one_of("role", AcceptanceRole),)

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("contract_acceptances.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str | None] = mapped_column(String(100))

    acceptance: Mapped[ContractAcceptance] = relationship(back_populates="members")

    @property
    def role_label(self) -> str:
        return label_of(AcceptanceRole, self.role)

    def audit_masks(self) -> dict:
        """A 服务对象代表 is a private person: their name is logged masked, like a phone number
        (whatever role the row had before or has now, read without loading a deleted row)."""
        history = inspect(self).attrs.role.history
        roles = {*history.added, *history.unchanged, *history.deleted}
        return {"name": mask_name} if AcceptanceRole.RECIPIENT in roles else {}
