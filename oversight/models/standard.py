from __future__ import annotations

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TimestampMixin
from .county import CountyScoped


class LocalStandard(CountyScoped, TimestampMixin, db.Model):
    """A county's standards for one year (SPEC section 8); rules read them from here."""

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
