"""What the map of a field worker's day shows: the visits in time order, numbered, the township
centres they are compared with, the county's township outlines, the extent and grid the map is
drawn in, and the tile layer when the install has one (MAP_TILE_URL)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

# Grid lines every so many degrees: the smallest step that leaves at most this many lines across the bounds.
GRID_STEPS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
MAX_GRID_LINES = 12
# Around a lone point the map still shows this much (degrees) on each side.
MIN_HALF_SPAN = 0.02


@dataclass(frozen=True)
class MapVisit:
    number: int  # 1, 2, … in time order
    record_id: int
    start_time: str
    end_time: str
    longitude: float | None
    latitude: float | None
    subject: str
    place: str
    assignment: str
    flags: list[str] = field(default_factory=list)

    @property
    def located(self) -> bool:
        return self.longitude is not None and self.latitude is not None


def number_visits(visits: Iterable[dict]) -> list[MapVisit]:
    """The day's visits sorted by start time (then end time, then record), numbered from 1."""
    ordered = sorted(visits, key=lambda v: (v["start_time"], v["end_time"], v["record_id"]))
    return [MapVisit(number=index, **visit) for index, visit in enumerate(ordered, start=1)]


def grid_step(span: float) -> float:
    return next((step for step in GRID_STEPS if span / step <= MAX_GRID_LINES), GRID_STEPS[-1])


def map_data(visits: list[MapVisit], townships: Mapping[str, tuple[float, float]],
             outlines: Iterable[dict] = (), tiles: Mapping[str, str] | None = None) -> dict:
    """The JSON the page's script draws: visits, townships (name → lng/lat), outlines (name, code,
    GeoJSON geometry), bounds and grid, tiles ({url, attribution}) or None."""
    points = [(v.longitude, v.latitude) for v in visits if v.located] + list(townships.values())
    if points:
        lngs, lats = [p[0] for p in points], [p[1] for p in points]
        centre_lng, centre_lat = (min(lngs) + max(lngs)) / 2, (min(lats) + max(lats)) / 2
        half = max(MIN_HALF_SPAN, (max(lngs) - min(lngs)) / 2, (max(lats) - min(lats)) / 2) * 1.15
    else:
        centre_lng, centre_lat, half = 115.0, 25.86, 0.3
    step = grid_step(2 * half)
    west, east = centre_lng - half, centre_lng + half
    south, north = centre_lat - half, centre_lat + half
    # The grid reaches past the bounds: the map's box is rarely the bounds' shape.
    grid_west, grid_east, grid_south, grid_north = west - 2 * half, east + 2 * half, south - 2 * half, north + 2 * half
    return {
        "visits": [{**asdict(v), "located": v.located} for v in visits],
        "townships": [{"name": name, "longitude": lng, "latitude": lat} for name, (lng, lat) in townships.items()],
        "bounds": [[south, west], [north, east]],
        "grid": {"step": step, "extent": [[grid_south, grid_west], [grid_north, grid_east]],
                 "longitudes": _lines(grid_west, grid_east, step), "latitudes": _lines(grid_south, grid_north, step)},
        "outlines": [{"name": o["name"], "code": o["code"], "geometry": o["geometry"]} for o in outlines],
        "tiles": dict(tiles) if tiles and tiles.get("url") else None,
    }


def _lines(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step)
    return [round(index * step, 6) for index in range(first, math.floor(high / step) + 1)]
