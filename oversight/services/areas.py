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


def every_county_id() -> list[int]:
    """The ids of every county the install holds (one for a county's install, several for a city's)."""
    return list(db.session.execute(select(Area.id).where(Area.level == AreaLevel.COUNTY).order_by(Area.id)).scalars())


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


# --- loading a county's townships and villages --------------------------------------------------


class AreaFileRefused(ValueError):
    """A rejected area file: nothing was stored; `errors` say which row, which column, why."""

    def __init__(self, message: str, errors=()):
        super().__init__(message)
        self.errors = list(errors)


def load_areas(data: bytes, filename: str) -> tuple[int, int]:
    """Store the townships and villages of a file (.xlsx/.csv, columns 区划代码, 名称): all rows
    or none. A code already stored takes the file's name. Returns (added, renamed); the caller
    commits. AreaFileRefused, Chinese, when any row is wrong."""
    from ..adapters.tables.reading import ReadLimits, UnreadableFile, read_table
    from ..domain.areas import CODE_COLUMN, NAME_COLUMN, check_area_rows

    try:
        table = read_table(data, filename, ReadLimits.from_config(current_app.config, 2))
    except UnreadableFile as error:
        raise AreaFileRefused(str(error)) from None
    missing = [column for column in (CODE_COLUMN, NAME_COLUMN) if column not in table.columns]
    if missing:
        raise AreaFileRefused(f"文件缺少列：{'、'.join(missing)}（应有“{CODE_COLUMN}”“{NAME_COLUMN}”两列）")
    rows = [(int(row), str(code), str(name))
            for row, code, name in zip(table.index, table[CODE_COLUMN], table[NAME_COLUMN])]
    if not rows:
        raise AreaFileRefused("文件中没有数据行")
    known = set(db.session.execute(select(Area.code)).scalars())
    errors = check_area_rows(rows, known)
    if errors:
        raise AreaFileRefused(f"文件有 {len(errors)} 处错误，未导入任何区划", errors)
    stored = {area.code: area for area in db.session.execute(
        select(Area).where(Area.code.in_([code.strip() for _, code, _ in rows]))).scalars()}
    added = renamed = 0
    # Parents first: a township before its villages (a shorter code is a higher level).
    for _, code, name in sorted(rows, key=lambda row: len(row[1].strip())):
        code, name = code.strip(), name.strip()
        if code in stored:
            if stored[code].name != name:
                stored[code].name = name
                renamed += 1
            continue
        parent = stored.get(parent_code(code)) or area_by_code(parent_code(code))
        area = Area(code=code, name=name, level=level_of(code).value, parent_id=parent.id)
        db.session.add(area)
        db.session.flush()
        stored[code] = area
        added += 1
    return added, renamed


def township_names(county_id: int) -> set[str]:
    """The loaded townships' names of a county."""
    return set(db.session.execute(select(Area.name).where(
        Area.parent_id == county_id, Area.level == AreaLevel.TOWNSHIP)).scalars())


# --- township outlines (issue 12) ---------------------------------------------------------------


def load_outlines(data: bytes) -> int:
    """Store the outlines of a GeoJSON FeatureCollection on their loaded townships (or counties):
    all features or none; an area's earlier outline is replaced. Returns how many were stored; the
    caller commits. AreaFileRefused, Chinese, when the file or any feature is wrong."""
    import json

    from ..domain.area_outlines import check_outlines
    from ..domain.vocabulary import AreaLevel as Level

    limit = int(current_app.config["AREA_OUTLINE_MAX_BYTES"])
    if len(data) > limit:
        raise AreaFileRefused(f"文件超过 {limit // (1024 * 1024)} MB，未导入任何边界")
    try:
        collection = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise AreaFileRefused("文件不是 UTF-8 编码的 GeoJSON（JSON）文件，未导入任何边界") from None
    levels = {code: Level(level) for code, level in db.session.execute(select(Area.code, Area.level)).all()}
    outlines, errors = check_outlines(collection, levels)
    if errors:
        raise AreaFileRefused(f"文件有 {len(errors)} 处错误，未导入任何边界", errors)
    areas = {area.code: area for area in db.session.execute(
        select(Area).where(Area.code.in_([outline.code for outline in outlines]))).scalars()}
    for outline in outlines:
        areas[outline.code].boundary = outline.geometry
    db.session.flush()
    return len(outlines)


def township_outlines(county_id: int) -> list[dict]:
    """The county's townships that have an outline: name, code, geometry, by code."""
    rows = db.session.execute(select(Area.code, Area.name, Area.boundary).where(
        Area.parent_id == county_id, Area.level == AreaLevel.TOWNSHIP, Area.boundary.is_not(None))
        .order_by(Area.code)).all()
    return [{"code": row.code, "name": row.name, "geometry": row.boundary} for row in rows if row.boundary]
