"""The visits of one field worker on one day, for the map page."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..domain.identifiers import mask_id_number
from ..domain.visit_map import MapVisit, map_data, number_visits
from ..extensions import db
from ..models import Assignment, CompletionRecord, FieldWorker
from .areas import township_outlines
from .completion_places import TOWNSHIP_CENTRES


def visit_days(worker: FieldWorker, limit: int = 60) -> list[date]:
    """The days the worker has visits on, newest first."""
    stmt = (select(CompletionRecord.service_date).where(CompletionRecord.worker_id == worker.id)
            .group_by(CompletionRecord.service_date).order_by(CompletionRecord.service_date.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars())


def last_visit_day(worker: FieldWorker) -> date | None:
    return db.session.execute(select(func.max(CompletionRecord.service_date))
                              .where(CompletionRecord.worker_id == worker.id)).scalar()


def worker_day(worker: FieldWorker, day: date, *, with_flags: bool) -> tuple[list[MapVisit], dict]:
    """The day's visits numbered in time order, and the map's data. The flags only `with_flags`
    (contractors do not see them)."""
    records = db.session.execute(
        select(CompletionRecord).where(CompletionRecord.worker_id == worker.id, CompletionRecord.service_date == day)
        .options(joinedload(CompletionRecord.assignment).joinedload(Assignment.subject))).scalars().all()
    visits = number_visits({
        "record_id": r.id, "start_time": r.start_time, "end_time": r.end_time,
        "longitude": r.longitude, "latitude": r.latitude,
        "subject": f"{r.assignment.subject.name}（{mask_id_number(r.assignment.subject.id_number)}）",
        "place": f"{r.assignment.subject.township}{r.assignment.subject.village}",
        "assignment": r.assignment.number,
        "flags": [flag.get("reason", "") for flag in r.anomaly_flags or []] if with_flags else [],
    } for r in records)
    townships = {r.assignment.subject.township for r in records}
    centres = {name: TOWNSHIP_CENTRES[name] for name in sorted(townships) if name in TOWNSHIP_CENTRES}
    tiles = {"url": current_app.config.get("MAP_TILE_URL") or "",
             "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or ""}
    # Every outlined township of the worker's county (its contractor's), under the markers.
    return visits, map_data(visits, centres, township_outlines(worker.contractor.county_id), tiles)
