from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..domain.vocabulary import Role
from .base import TimestampMixin, one_of


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"), index=True)
    # A field-worker account (role field_worker) is one registered worker of its contractor.
    field_worker_id: Mapped[int | None] = mapped_column(ForeignKey("field_workers.id"), index=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Part of every session's identity: raising it ends every session signed in before.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Where the last successful log-in came from: attempts from there are not held back by the
    # account-wide throttle that strangers' guesses fill.
    last_login_address: Mapped[str | None] = mapped_column(String(45))
    # The area the user is scoped to (a county, or a city or province above its counties): the
    # user sees it and everything below. A contractor's people are in their contractor's county.
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)

    contractor: Mapped[Contractor | None] = relationship()  # noqa: F821
    field_worker: Mapped[FieldWorker | None] = relationship()  # noqa: F821
    area: Mapped[Area] = relationship()  # noqa: F821

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"
