"""Areas and the counties a user's area covers (issue 14)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..domain.areas import level_of, parent_code
from ..domain.vocabulary import AreaLevel
from ..extensions import db
from ..models import Area

# The default county's city and province, named (another county's stand as their codes).
KNOWN_NAMES = {"360704": "赣县区", "360700": "赣州市", "360000": "江西省"}


def area_by_code(code: str) -> Area | None:
    return db.session.execute(select(Area).where(Area.code == code)).scalar_one_or_none()


def ensure_area(code: str, name: str | None = None) -> Area:
    """The area with `code`, created with the areas above it when missing (names as given, or
    as known, or the code)."""
    found = area_by_code(code)
    if found is not None:
        return found
    above = parent_code(code)
    parent = ensure_area(above, _configured_name(above)) if above else None
    area = Area(code=code, name=name or KNOWN_NAMES.get(code, code), level=level_of(code).value,
                parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    return area


def _configured_name(code: str) -> str | None:
    level = level_of(code)
    setting = {AreaLevel.CITY: "CITY_NAME", AreaLevel.PROVINCE: "PROVINCE_NAME"}.get(level)
    return current_app.config.get(setting) if setting else None


def home_county() -> Area:
    """The install's county (COUNTY_CODE, COUNTY_NAME): a one-county install's every row is there."""
    return ensure_area(current_app.config["COUNTY_CODE"], current_app.config.get("COUNTY_NAME"))


def county_ids_under(area_id: int) -> list[int]:
    """The counties an area covers: itself if a county, else the counties below it (none below a
    county: a township's user would see no county's rows)."""
    area = db.session.get(Area, area_id)
    if area is None:
        return []
    if area.level == AreaLevel.COUNTY:
        return [area.id]
    frontier, counties = [area.id], []
    while frontier:
        rows = db.session.execute(select(Area.id, Area.level).where(Area.parent_id.in_(frontier))).all()
        counties += [row.id for row in rows if row.level == AreaLevel.COUNTY]
        frontier = [row.id for row in rows if row.level in (AreaLevel.PROVINCE, AreaLevel.CITY)]
    return sorted(counties)


def scope_area_ids_under(area_id: int) -> list[int]:
    """The area and every province, city and county below it: the areas a user scoped to it may
    give an account of (an admin never makes a user who sees more than they do)."""
    ids, frontier = [area_id], [area_id]
    while frontier:
        frontier = list(db.session.execute(select(Area.id).where(
            Area.parent_id.in_(frontier),
            Area.level.in_([AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY]))).scalars())
        ids += frontier
    return ids


def counties_under(area_id: int) -> list[Area]:
    ids = county_ids_under(area_id)
    if not ids:
        return []
    return list(db.session.execute(select(Area).where(Area.id.in_(ids)).order_by(Area.code)).scalars())


def scope_areas() -> list[Area]:
    """The areas a user may be scoped to: provinces, cities and counties, by code."""
    return list(db.session.execute(
        select(Area).where(Area.level.in_([AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY]))
        .order_by(Area.code)).scalars())
