"""The evidence behind a contract's quarterly KPIs, gathered from the records (SPEC section 6).

Completion and timeliness come from the assignments due in the quarter; the spot-check,
callback and rectification figures are the check results' own (`quarter_check_figures`), so
that a review and the check-results page never disagree. Spot-check pass and field accuracy
score on their design-based estimates (numerator and denominator stay the raw counts).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from itertools import compress, repeat
from operator import and_, itemgetter

from sqlalchemy import BigInteger, String, case, cast, extract, func, select, type_coerce
from sqlalchemy.engine import processors
from sqlalchemy.orm import selectinload

from ..adapters.bulk_sql import core_rows
from ..clock import local_day_of
from ..domain.figures import Estimate, ReviewFigures
from ..domain.fingerprints import _value_json
from ..domain.periods import Quarter
from ..domain.sampling import STRATUM_TARGETED
from ..domain.scoring import Evidence
from ..domain.vocabulary import RecordSource
from ..extensions import db
from ..models import (
    Assignment,
    Callback,
    CompletionRecord,
    DrawItem,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
)
from .check_results import QuarterChecks, quarter_check_figures, quarter_checks
from .draws import CALLBACK, SPOT_CHECK
from .reassessment import KPI_KEY as REASSESSMENT_KEY
from .reassessment import due_reassessments, reassessment_evidence

# What each indicator's record ids list: assignment ids; completion-record ids of the spot checks
# and callbacks; rectification-notice ids.
RECORD_KINDS: dict[str, str] = {
    "completion": "assignment",
    "timeliness": "assignment",
    "spot_check_pass": "spot_check",
    "field_accuracy": "spot_check",
    "satisfaction": "callback",
    "authenticity": "callback",
    "rectification": "rectification_notice",
    REASSESSMENT_KEY: "assignment",
    "app_share": "assignment",
}


@dataclass(frozen=True)
class QuarterEvidence:
    """Evidence per indicator key, the ids each numerator counted, the completed volume, and the
    design-based estimates behind the indicators that have one, as the figures store them."""

    evidence: dict[str, Evidence]
    counted_ids: dict[str, tuple[int, ...]]
    completed_volume: int
    estimates: Mapping[str, Estimate] = field(default_factory=dict)


def _evidence(key: str, ids: list[int], counted: list[int]) -> tuple[Evidence, tuple[int, ...]]:
    """Evidence over the rows `ids` whose numerator is the rows `counted`."""
    return Evidence(key, len(counted), len(ids), ids), tuple(counted)


def _json_day_and_time(dialect: str) -> tuple:
    """Columns of an assignment's due date and completion time as the database can write them
    for `_as_json`: on PostgreSQL their canonical JSON itself (`"…"` of Python's isoformat(),
    `null`), on SQLite their stored text."""
    if dialect != "postgresql":  # '' for no time: a column of strings only, for C calls
        return (type_coerce(Assignment.due_date, String),
                func.coalesce(type_coerce(Assignment.completed_at, String), "", type_=String))
    at = Assignment.completed_at
    fraction = case((cast(extract("microseconds", at), BigInteger) % 1_000_000 == 0, ""),
                    else_=func.to_char(at, ".US", type_=String))
    time = case((at.is_(None), "null"),
                else_='"' + func.to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String) + fraction + '"')
    return '"' + func.to_char(Assignment.due_date, "YYYY-MM-DD", type_=String) + '"', time


_SQLITE_DAY = 10  # SQLite's text of a date, 'YYYY-MM-DD', and of a datetime: 'YYYY-MM-DD HH:MM:SS[.ffffff]'
_SQLITE_TIMES = {0, 19, 26}  # 0: no time ('')
_AT_10, _AT_19 = itemgetter(slice(10, 11)), itemgetter(slice(19, 20))  # the date's end and the fraction's point
_NO_TIME = {'""': "null"}


def _as_json(dialect: str, days: tuple, times: tuple) -> tuple[Iterable[str], Iterable[str]]:
    """`fingerprints._value_json` of the due dates and completion times read by `_json_day_and_time`,
    by C calls per column (no date or datetime made): SQLite's text in the shape SQLAlchemy
    writes is isoformat()'s with a space for the T and, for a whole second, '.000000' more; a
    column with any other text is read as SQLAlchemy reads it (`str_to_date`, `str_to_datetime`)."""
    if dialect == "postgresql":
        return days, times
    if set(map(len, days)) == {_SQLITE_DAY}:
        days = map('"%s"'.__mod__, days)
    else:
        days = [_value_json(processors.str_to_date(day)) for day in days]
    if set(map(len, times)) <= _SQLITE_TIMES and set(map(_AT_10, times)) <= {"", " ", "T"} \
            and set(map(_AT_19, times)) <= {"", "."}:
        written = list(map('"%s"'.__mod__, map(str.replace, map(str.removesuffix, times, repeat(".000000")),
                                               repeat(" "), repeat("T"))))
        times = map(_NO_TIME.get, written, written) if "" in times else written
    else:
        times = [_value_json(processors.str_to_datetime(at) if at else None) for at in times]
    return days, times


def due_assignments(contract_id: int, quarter: Quarter, due_by: date | None = None) -> list:
    """The contract's assignments (cancelled ones aside) due in the quarter — given `due_by` (a
    running quarter's preview), only those due on or before that day — in id order, as rows of
    `id`, `completed`, `on_time` (completed by the county day it was due), and the due date and
    the completion time as their canonical JSON (what the fingerprint hashes of them: `"…"` of
    isoformat(), `null`), in that order (the callers unpack them).
    The KPIs count them and the fingerprints (`services.freshness`) read them: one query for both."""
    # completed_at is UTC; the due date is a day in the county. The database compares the days:
    # a quarter of a large contract is thousands of rows. No date or datetime is made of the
    # values: the fingerprint only writes them out again.
    dialect = db.session.get_bind().dialect.name
    on_time = Assignment.completed_at.is_not(None) & (local_day_of(Assignment.completed_at) <= Assignment.due_date)
    rows = core_rows(
        select(Assignment.id, (Assignment.status == "completed").label("completed"), on_time.label("on_time"),
               *_json_day_and_time(dialect))
        .where(Assignment.contract_id == contract_id, Assignment.status != "cancelled",
               Assignment.due_date >= quarter.start,
               Assignment.due_date <= (quarter.end if due_by is None else min(quarter.end, due_by)))
        .order_by(Assignment.id))
    if not rows:
        return []
    ids, completed, in_time, days, times = zip(*rows)
    return list(zip(ids, completed, in_time, *_as_json(dialect, days, times)))


@dataclass(frozen=True)
class QuarterRows:
    """What a contract's quarter is scored from, read once: the KPIs (`gather_evidence`) and the
    review's fingerprint (`services.freshness.review_evidence`) then count the very same rows."""

    assignments: list
    checks: QuarterChecks
    reassessments: list = field(default_factory=list)  # `reassessment.due_reassessments`
    # Ids of the assignments above that a visit recorded in the app completed (移动端记录占比).
    app_recorded: frozenset[int] = frozenset()


def app_recorded_ids(contract_id: int, quarter: Quarter, due_by: date | None = None) -> frozenset[int]:
    """The contract's assignments due in the quarter (as `due_assignments` bounds them) with a
    completion record whose source is the app."""
    rows = db.session.execute(
        select(CompletionRecord.assignment_id).join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .where(CompletionRecord.contract_id == contract_id, CompletionRecord.source == RecordSource.APP,
               Assignment.contract_id == contract_id, Assignment.due_date >= quarter.start,
               Assignment.due_date <= (quarter.end if due_by is None else min(quarter.end, due_by))))
    return frozenset(rows.scalars())


def quarter_rows(contract_id: int, quarter: Quarter, due_by: date | None = None) -> QuarterRows:
    """The assignments due in the quarter and its checks, callbacks and notices (see `due_by`
    at `gather_evidence`)."""
    return QuarterRows(due_assignments(contract_id, quarter, due_by), quarter_checks(contract_id, quarter, due_by),
                       due_reassessments(contract_id, quarter, due_by), app_recorded_ids(contract_id, quarter, due_by))


def gather_evidence(contract_id: int, quarter: Quarter, due_by: date | None = None,
                    rows: QuarterRows | None = None) -> QuarterEvidence:
    """Every indicator's counts and record ids for one contract and quarter; given `due_by` (a running
    quarter's preview), only the assignments and notices due on or before that day. `rows`: the
    quarter's rows (`quarter_rows`), when the caller has read them already."""
    rows = quarter_rows(contract_id, quarter, due_by) if rows is None else rows
    # Column by column by C calls (a quarter's rows are thousands): the ids due, completed, on time.
    ids, done, in_time = list(zip(*rows.assignments))[:3] or ((), (), ())
    due = list(ids)
    completed = list(compress(due, done))
    on_time = list(compress(due, map(and_, done, in_time)))
    checked, estimates = _check_figures(contract_id, quarter, rows.checks)
    pairs = {
        "completion": _evidence("completion", due, completed),
        "timeliness": _evidence("timeliness", completed, on_time),
        "app_share": _evidence("app_share", completed, [i for i in completed if i in rows.app_recorded]),
        **checked,
        REASSESSMENT_KEY: reassessment_evidence(rows.reassessments),
    }
    return QuarterEvidence(evidence={key: pair[0] for key, pair in pairs.items()},
                           counted_ids={key: pair[1] for key, pair in pairs.items() if pair[1] is not None},
                           completed_volume=len(completed), estimates=estimates)


def estimate_of(estimates: Mapping[str, Estimate], key: str) -> Fraction | None:
    """The exact estimate an indicator scores on (None: none, or no random stratum checked)."""
    estimate = estimates.get(key)
    return None if estimate is None else estimate.exact


def _check_figures(contract_id: int, quarter: Quarter, read: QuarterChecks
                   ) -> tuple[dict[str, tuple[Evidence, tuple[int, ...] | None]], dict[str, Estimate]]:
    """Spot checks, field accuracy, callbacks and rectification notices, as the check results count them,
    and the design-based estimates of the first two.

    Field accuracy counts fields, not records, so no record ids make up its numerator (None).
    """
    found = quarter_check_figures(contract_id, quarter, lots=False, read=read)
    checks, fields, calls, notices = (found[key] for key in ("spot_checks", "field_accuracy", "callbacks",
                                                             "rectifications"))
    estimates = {key: Estimate.from_json(stored) for key, stored in found["estimates"].items()}
    return {
        "spot_check_pass": (Evidence("spot_check_pass", checks["passed"], checks["checked"], checks["record_ids"],
                                     estimate_of(estimates, "spot_check_pass")),
                            tuple(checks["passed_record_ids"])),
        "field_accuracy": (Evidence.for_field_accuracy(fields["differing"], fields["compared"], fields["record_ids"],
                                                       estimate=estimate_of(estimates, "field_accuracy")),
                           None),
        "satisfaction": (Evidence("satisfaction", calls["satisfied"], calls["answered"], calls["record_ids"]),
                         tuple(calls["satisfied_record_ids"])),
        "authenticity": (Evidence("authenticity", calls["confirmed"], calls["answered"], calls["record_ids"]),
                         tuple(calls["confirmed_record_ids"])),
        "rectification": (Evidence("rectification", notices["closed_by_deadline"], notices["due"],
                                   notices["notice_ids"]), tuple(notices["closed_by_deadline_notice_ids"])),
    }, estimates


def _checked(model, purpose: str, contract_id: int, quarter: Quarter):
    """A spot check's or callback's rows of the contract's draws for the quarter (targeted apart)."""
    return (select(model).join(DrawItem, model.draw_item_id == DrawItem.id)
            .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
            .where(SamplingDraw.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
                   SamplingDraw.purpose == purpose, DrawItem.stratum != STRATUM_TARGETED))


def _by_id(model, ids: Sequence[int], *options) -> list:
    return list(db.session.execute(select(model).where(model.id.in_(ids)).options(*options).order_by(model.id))
                .scalars())


def records_behind(kind: str, ids: Sequence[int], contract_id: int, quarter: Quarter) -> list:
    """The rows an indicator's ids name (see RECORD_KINDS), in id order, with what their listing shows."""
    if kind == "assignment":
        return _by_id(Assignment, ids, selectinload(Assignment.subject))
    if kind == "rectification_notice":
        return _by_id(RectificationNotice, ids, selectinload(RectificationNotice.spot_check)
                      .selectinload(SpotCheck.record).selectinload(CompletionRecord.assignment))
    model, purpose, extra = {"spot_check": (SpotCheck, SPOT_CHECK, ()),
                             "callback": (Callback, CALLBACK, (selectinload(Callback.subject),))}[kind]
    stmt = (_checked(model, purpose, contract_id, quarter).where(model.record_id.in_(ids))
            .options(selectinload(model.record).selectinload(CompletionRecord.assignment), *extra)
            .order_by(model.record_id))
    return list(db.session.execute(stmt).scalars())


@dataclass(frozen=True)
class EvidenceRow:
    """How a printout names one id behind an indicator: its 任务编号 and what the id is."""

    number: str
    detail: str


def evidence_rows(figures: ReviewFigures) -> dict[str, dict[int, EvidenceRow]]:
    """Per indicator key, its ids (see RECORD_KINDS) named by 任务编号, so that a printed sheet
    lists what the county recognises instead of internal ids; one query per kind of id."""
    # Spot checks and callbacks list the ids of the completion records they checked.
    kinds = {indicator.key: "record" if RECORD_KINDS[indicator.key] in ("spot_check", "callback")
             else RECORD_KINDS[indicator.key] for indicator in figures.indicators if indicator.key in RECORD_KINDS}
    wanted: dict[str, set[int]] = {}
    for indicator in figures.indicators:
        if indicator.key in kinds:
            wanted.setdefault(kinds[indicator.key], set()).update(indicator.record_ids)
    named: dict[str, dict[int, EvidenceRow]] = {"assignment": {}, "record": {}, "rectification_notice": {}}
    if wanted.get("assignment"):
        for row in db.session.execute(select(Assignment.id, Assignment.number, Assignment.due_date)
                                      .where(Assignment.id.in_(wanted["assignment"]))):
            named["assignment"][row.id] = EvidenceRow(row.number, f"任务（截止 {row.due_date}）")
    if wanted.get("record"):
        for row in db.session.execute(select(CompletionRecord.id, Assignment.number, CompletionRecord.service_date)
                                      .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
                                      .where(CompletionRecord.id.in_(wanted["record"]))):
            named["record"][row.id] = EvidenceRow(row.number, f"服务记录（服务日期 {row.service_date}）")
    if wanted.get("rectification_notice"):
        for row in db.session.execute(select(RectificationNotice.id, RectificationNotice.number, Assignment.number)
                                      .join(SpotCheck, RectificationNotice.spot_check_id == SpotCheck.id)
                                      .join(CompletionRecord, SpotCheck.record_id == CompletionRecord.id)
                                      .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
                                      .where(RectificationNotice.id.in_(wanted["rectification_notice"]))):
            named["rectification_notice"][row[0]] = EvidenceRow(row[2], f"整改通知 {row[1]}")
    return {indicator.key: {record_id: named[kinds[indicator.key]][record_id] for record_id in indicator.record_ids
                            if record_id in named[kinds[indicator.key]]}
            for indicator in figures.indicators if indicator.key in kinds}
