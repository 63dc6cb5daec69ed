from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import TimestampMixin
from .county import CountyScoped


class LocalStandard(CountyScoped, TimestampMixin, db.Model):
    """A county's standards for one year (SPEC section 8).

    The row holds the values of the year's newest version (`versions`); the rules read the
    version in force on the day in question through `services.standards`.
    """

    __tablename__ = "local_standards"
    __table_args__ = (UniqueConstraint("county_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    county: Mapped[str] = mapped_column(String(64))
    poverty_line_fen: Mapped[int]
    care_allowance_tier1_fen: Mapped[int]
    care_allowance_tier2_fen: Mapped[int]
    care_allowance_tier3_fen: Mapped[int]
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    spot_check_share_bp: Mapped[int] = mapped_column(default=500)
    spot_check_floor: Mapped[int] = mapped_column(default=5)
    callback_share_bp: Mapped[int] = mapped_column(default=1000)
    retrain_threshold_bp: Mapped[int] = mapped_column(default=1000)
    recheck_threshold_bp: Mapped[int] = mapped_column(default=3000)
    # A worker is sent to a targeted re-check on at least this many checked records (or a Wilson
    # lower bound past the threshold), see domain.comparison.recheck_warranted.
    recheck_min_checks: Mapped[int] = mapped_column(default=5, server_default="5")
    # 农村低保标准; NULL on rows stored before the urban/rural split (then `poverty_line_fen` is both).
    poverty_line_rural_fen: Mapped[int | None]
    # 调休: weekend days worked, ISO dates like `holidays`.
    working_days: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    versions: Mapped[list[LocalStandardVersion]] = relationship(
        back_populates="standard", order_by="LocalStandardVersion.number")


class LocalStandardVersion(db.Model):
    """One dated version of a year's standards: never edited, a change is the next number.

    `poverty_line_fen` is the urban 低保标准, `poverty_line_rural_fen` the rural one.
    """

    __tablename__ = "local_standard_versions"
    __table_args__ = (UniqueConstraint("standard_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("local_standards.id"), index=True)
    number: Mapped[int]
    effective_from: Mapped[date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    poverty_line_fen: Mapped[int]
    poverty_line_rural_fen: Mapped[int]
    care_allowance_tier1_fen: Mapped[int]
    care_allowance_tier2_fen: Mapped[int]
    care_allowance_tier3_fen: Mapped[int]
    spot_check_share_bp: Mapped[int]
    spot_check_floor: Mapped[int]
    callback_share_bp: Mapped[int]
    retrain_threshold_bp: Mapped[int]
    recheck_threshold_bp: Mapped[int]
    recheck_min_checks: Mapped[int]
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    working_days: Mapped[list] = mapped_column(JSON, default=list)

    standard: Mapped[LocalStandard] = relationship(back_populates="versions")
    created_by = relationship("User")
