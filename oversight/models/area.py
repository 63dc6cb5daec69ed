from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import AreaLevel
from ..extensions import db
from .base import TimestampMixin, one_of


class Area(TimestampMixin, db.Model):
    """One administrative area: province → city → county/district → township → village.

    `code` is the GB/T 2260 code (6 digits) or the statistics bureau's township and village code
    (9, 12 digits); `domain.areas` derives the level and the parent from it.
    """

    __tablename__ = "areas"
    __table_args__ = (one_of("level", AreaLevel),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # A township's (or county's) outline: a GeoJSON Polygon or MultiPolygon geometry in WGS-84
    # lon/lat, checked by domain.area_outlines (issue 12); None until loaded.
    boundary: Mapped[dict | None] = mapped_column(JSON)

    parent: Mapped[Area | None] = relationship(remote_side=[id])
