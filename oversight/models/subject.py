from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.identifiers import mask_id_number, mask_phone
from ..extensions import db
from ..domain.vocabulary import SubjectCategory, SubjectKind
from .base import TimestampMixin, one_of
from .county import CountyScoped


class Subject(CountyScoped, TimestampMixin, db.Model):
    """服务对象: a household (surveyed) or a person (assessed, cared for)."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("kind", "id_number"), one_of("kind", SubjectKind), one_of("category", SubjectCategory))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    township: Mapped[str] = mapped_column(String(32), index=True)
    village: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(11))
    household_size: Mapped[int | None]

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
