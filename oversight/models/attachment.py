"""Evidence attachments: files kept in the file store by SHA-256, each for one owner row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.attachments import kind_name, size_text
from ..domain.vocabulary import AttachmentOwner, label_of
from ..extensions import db
from .base import one_of, utcnow


class Attachment(db.Model):
    """附件: a photo, scan or PDF attached to one owner (a spot check, a notice's answer, a
    review comment, a correction request, an appeal), named by `owner_type` and `owner_id`."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "owner_type", "owner_id"),
                      one_of("owner_type", AttachmentOwner))

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()  # noqa: F821

    @property
    def owner_label(self) -> str:
        return label_of(AttachmentOwner, self.owner_type)

    @property
    def kind_name(self) -> str:
        return kind_name(self.content_type)

    @property
    def size_text(self) -> str:
        return size_text(self.size_bytes)
