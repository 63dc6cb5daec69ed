"""Township (and county) outlines from a GeoJSON FeatureCollection (issue 12): each feature's
geometry a Polygon or MultiPolygon in WGS-84 lon/lat, its `properties` naming the area by `code`
or `区划代码`. The whole file is checked before anything is stored; each refusal says which feature
(第N个要素, from 1), which field and why, in Chinese.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .vocabulary import AreaLevel

CODE_KEYS = ("code", "区划代码")
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
OUTLINED_LEVELS = (AreaLevel.TOWNSHIP, AreaLevel.COUNTY)
# WGS-84, and plausibly inside China (a swapped lon/lat or a projected metre grid lands outside).
LON_RANGE, LAT_RANGE = (-180.0, 180.0), (-90.0, 90.0)
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
MIN_RING_POSITIONS = 4


class OutlineError(ValueError):
    """One refused feature of an outline file: which feature (from 1, 0 for the file), which field, why."""

    def __init__(self, feature: int, field: str, reason: str):
        where = f"第{feature}个要素“{field}”" if feature else f"“{field}”"
        super().__init__(f"{where}：{reason}")
        self.feature, self.field, self.reason = feature, field, reason


@dataclass(frozen=True)
class Outline:
    code: str
    geometry: dict  # {"type": "Polygon"|"MultiPolygon", "coordinates": [...]}, as given


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ring_reason(ring) -> str | None:
    """Why a linear ring is not one, or None."""
    if not isinstance(ring, list) or len(ring) < MIN_RING_POSITIONS:
        return f"每个环至少要有 {MIN_RING_POSITIONS} 个坐标点（首尾相同）"
    for position in ring:
        if not (isinstance(position, list) and len(position) in (2, 3) and all(_number(v) for v in position)):
            return "坐标点应为 [经度, 纬度]"
        lon, lat = position[0], position[1]
        if not (LON_RANGE[0] <= lon <= LON_RANGE[1]) or not (LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
            return f"坐标 [{lon}, {lat}] 超出经度 -180～180、纬度 -90～90（应为 WGS-84 经纬度，经度在前）"
        if not (CHINA_LON[0] <= lon <= CHINA_LON[1]) or not (CHINA_LAT[0] <= lat <= CHINA_LAT[1]):
            return f"坐标 [{lon}, {lat}] 不在中国境内（经度 73～136、纬度 3～54；经纬度是否颠倒？）"
    if ring[0][:2] != ring[-1][:2]:
        return "环未闭合：首尾坐标点应相同"
    return None


def geometry_reason(geometry) -> str | None:
    """Why a GeoJSON geometry is not a valid Polygon or MultiPolygon in lon/lat, or None."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in GEOMETRY_TYPES:
        kind = geometry.get("type") if isinstance(geometry, Mapping) else None
        return f"几何类型应为 Polygon 或 MultiPolygon，而不是“{kind}”" if kind else "缺少几何图形（geometry）"
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        return "坐标（coordinates）为空或格式不对"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "每个多边形至少要有一个外环"
        for ring in polygon:
            if (reason := _ring_reason(ring)) is not None:
                return reason
    return None


def check_outlines(collection, levels: Mapping[str, AreaLevel]) -> tuple[list[Outline], list[OutlineError]]:
    """The outlines of a parsed GeoJSON FeatureCollection, and the errors; `levels` are the stored
    areas' codes and levels (an outline belongs to a loaded township or county). Stored only when
    there is no error."""
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        return [], [OutlineError(0, "type", "文件应为 GeoJSON 要素集合（FeatureCollection）")]
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        return [], [OutlineError(0, "features", "文件中没有要素")]
    outlines, errors, seen = [], [], {}
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            errors.append(OutlineError(number, "type", "应为要素（Feature）"))
            continue
        properties = feature.get("properties") if isinstance(feature.get("properties"), Mapping) else {}
        raw = next((properties[key] for key in CODE_KEYS if properties.get(key) not in (None, "")), None)
        code = str(raw).strip() if raw is not None else ""
        code_ok = False
        if not code:
            errors.append(OutlineError(number, "区划代码", "properties 中缺少 code 或 区划代码"))
        elif code not in levels:
            errors.append(OutlineError(number, "区划代码", f"区划代码“{code}”未登记（请先导入乡镇区划）"))
        elif levels[code] not in OUTLINED_LEVELS:
            errors.append(OutlineError(number, "区划代码", f"只能导入乡镇（街道）或县（区）的边界，“{code}”是{levels[code].label}"))
        elif code in seen:
            errors.append(OutlineError(number, "区划代码", f"区划代码“{code}”与第{seen[code]}个要素重复"))
        else:
            seen[code] = number
            code_ok = True
        if (reason := geometry_reason(feature.get("geometry"))) is not None:
            errors.append(OutlineError(number, "geometry", reason))
        elif code_ok:
            geometry = feature["geometry"]
            outlines.append(Outline(code, {"type": geometry["type"], "coordinates": geometry["coordinates"]}))
    return (outlines if not errors else []), errors
