"""The evidence behind a contract's quarterly KPIs, gathered from the records (SPEC section 6).

Completion and timeliness come from the assignments due in the quarter; the spot-check,
callback and rectification figures come from `_check_figures`, the one place that reads
the results of the checks.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..domain.periods import Quarter
from ..domain.scoring import Evidence
from ..extensions import db
from ..models import Assignment, Callback, DrawItem, RectificationNotice, SamplingDraw, SpotCheck

# What the record ids of each indicator's evidence point at.
RECORD_KINDS: dict[str, str] = {
    "completion": "assignment",
    "timeliness": "assignment",
    "spot_check_pass": "spot_check",
    "field_accuracy": "spot_check",
    "satisfaction": "callback",
    "authenticity": "callback",
    "rectification": "rectification_notice",
}

SATISFIED_AT_LEAST = 3  # 基本满意 and better (SPEC section 5)


@dataclass(frozen=True)
class QuarterEvidence:
    """Evidence per indicator key, the ids each numerator counted, and the completed volume."""

    evidence: dict[str, Evidence]
    counted_ids: dict[str, tuple[int, ...]]
    completed_volume: int


def _evidence(key: str, rows, counts) -> tuple[Evidence, tuple[int, ...]]:
    """Evidence over `rows` (each with an id) whose numerator is the rows `counts` accepts."""
    counted = tuple(row.id for row in rows if counts(row))
    return Evidence(key, len(counted), len(rows), [row.id for row in rows]), counted


def gather_evidence(contract_id: int, quarter: Quarter) -> QuarterEvidence:
    """Every indicator's counts and record ids for one contract and quarter."""
    assignments = db.session.execute(
        select(Assignment.id, Assignment.status, Assignment.due_date, Assignment.completed_at)
        .where(Assignment.contract_id == contract_id, Assignment.status != "cancelled",
               Assignment.due_date >= quarter.start, Assignment.due_date <= quarter.end)
        .order_by(Assignment.id)
    ).all()
    completed = [row for row in assignments if row.status == "completed"]
    pairs = {
        "completion": _evidence("completion", assignments, lambda row: row.status == "completed"),
        "timeliness": _evidence("timeliness", completed, lambda row: row.completed_at is not None
                                and row.completed_at.date() <= row.due_date),
        **_check_figures(contract_id, quarter),
    }
    return QuarterEvidence(evidence={key: pair[0] for key, pair in pairs.items()},
                           counted_ids={key: pair[1] for key, pair in pairs.items() if pair[1] is not None},
                           completed_volume=len(completed))


def _check_figures(contract_id: int, quarter: Quarter) -> dict[str, tuple[Evidence, tuple[int, ...] | None]]:
    """Spot checks, field accuracy, callbacks and rectification notices of the quarter.

    Field accuracy counts fields, not records, so no record ids make up its numerator (None).
    """
    checks = db.session.execute(
        select(SpotCheck.id, SpotCheck.passed, SpotCheck.fields_compared, SpotCheck.fields_differing)
        .join(DrawItem, SpotCheck.draw_item_id == DrawItem.id)
        .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
        # Targeted (complaint) records were not drawn at random: reported apart, never scored.
        .where(SpotCheck.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
               DrawItem.stratum != "targeted")
        .order_by(SpotCheck.id)
    ).all()
    compared = [row for row in checks if row.fields_compared]
    callbacks = db.session.execute(
        select(Callback.id, Callback.satisfaction, Callback.service_confirmed)
        .join(DrawItem, Callback.draw_item_id == DrawItem.id)
        .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
        .where(Callback.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
               Callback.status == "answered")
        .order_by(Callback.id)
    ).all()
    notices = db.session.execute(
        select(RectificationNotice.id, RectificationNotice.deadline, RectificationNotice.closed_at)
        .where(RectificationNotice.contract_id == contract_id,
               RectificationNotice.deadline >= quarter.start, RectificationNotice.deadline <= quarter.end)
        .order_by(RectificationNotice.id)
    ).all()
    field_accuracy = Evidence.for_field_accuracy(
        sum(row.fields_differing for row in compared), sum(row.fields_compared for row in compared),
        [row.id for row in compared])
    return {
        "spot_check_pass": _evidence("spot_check_pass", checks, lambda row: row.passed),
        "field_accuracy": (field_accuracy, None),
        "satisfaction": _evidence("satisfaction", callbacks, lambda row: row.satisfaction is not None
                                  and row.satisfaction >= SATISFIED_AT_LEAST),
        "authenticity": _evidence("authenticity", callbacks, lambda row: bool(row.service_confirmed)),
        "rectification": _evidence("rectification", notices, lambda row: row.closed_at is not None
                                   and row.closed_at.date() <= row.deadline),
    }
