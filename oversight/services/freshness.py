"""Freshness of reviews and evaluations: the evidence rows their figures were computed from,
fingerprinted (`domain.fingerprints`), and what has changed in the records since.

A review's sources are its indicators, each with the rows its figure reads and only the fields
that decide it (an assignment's being completed, a check's verdict, a callback's answer …), so
that a change that cannot move a figure does not make the review stale. An evaluation's sources
are its quarters (the newest revision of each, with its total and its own fingerprint), the
year's performance payments and the contract's amount, share and term.

A review's figures and its fingerprint are computed from the same rows, read once
(`kpi_evidence.quarter_rows`): the fingerprint describes exactly what the figures counted.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

from sqlalchemy import select

from ..domain.figures import EvaluationFigures, ReviewFigures
from ..domain.fingerprints import FORMAT, Fingerprint, SourceChange, WrittenRows, changes, describe, fingerprint
from ..domain.periods import Quarter
from ..extensions import db
from ..models import AnnualEvaluation, Contract, PaymentRecord, QuarterlyReview
from .callbacks import SATISFIED_FROM
from .kpi_evidence import RECORD_KINDS, QuarterEvidence, QuarterRows, quarter_rows
from .reassessment import KPI_KEY as REASSESSMENT_KEY

STALE_MESSAGE = "记录已变化，请重新计算"

_ID_PREFIX = {"assignment": "任务#", "spot_check": "完成记录#", "callback": "完成记录#",
              "rectification_notice": "整改通知#"}
EVALUATION_SOURCES = {"quarters": ("季度考核", ""), "payments": ("绩效挂钩部分付款", "付款#"),
                      "contract": ("合同金额与期限", "合同#")}


def _one_row_per_id(rows: Iterable[tuple]) -> list[tuple]:
    """Rows by their first value; a record checked in two draws is one row listing both."""
    grouped: dict[object, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(tuple(row[1:]))
    return [(key, *values[0]) if len(values) == 1 else (key, sorted(values, key=repr))
            for key, values in grouped.items()]


def review_evidence(contract_id: int, quarter: Quarter, rows: QuarterRows | None = None) -> dict[str, list[tuple]]:
    """Per indicator key, the rows its figure reads: `(id, *fields that decide it)`.

    The assignments are those the KPIs count (`kpi_evidence.due_assignments`, the same query). A
    spot check's row carries its draw and stratum, which weight it in the design-based estimate;
    targeted checks are in too: their own k/n is shown beside the estimate. Only a finished
    quarter is fingerprinted: a running quarter's preview is never stored nor publishable. `rows`:
    the quarter's rows, when the caller has read them already to score them.
    """
    rows = quarter_rows(contract_id, quarter) if rows is None else rows
    checks, notices = rows.checks.checks, rows.checks.notices
    calls = [c for c in rows.checks.calls if c.answered]
    # Column by column by C calls: a large contract's quarter is thousands of assignments.
    # The due dates and completion times come as their canonical JSON (`kpi_evidence.due_assignments`).
    ids, completed, _, due_dates, completed_at = list(zip(*rows.assignments)) or ((),) * 5
    completion = list(zip(ids, map(bool, completed)))
    done = list(compress(ids, completed))
    timeliness = WrittenRows(done, list(map("[%d,%s,%s]".__mod__, zip(done, compress(due_dates, completed),
                                                                        compress(completed_at, completed)))))
    return {
        "completion": completion,
        "timeliness": timeliness,
        "spot_check_pass": _one_row_per_id((c.record_id, c.draw_id, c.stratum, c.passed) for c in checks),
        "field_accuracy": _one_row_per_id((c.record_id, c.draw_id, c.stratum, c.compared, c.differing)
                                          for c in checks),
        "satisfaction": _one_row_per_id((c.record_id, c.satisfaction >= SATISFIED_FROM) for c in calls),
        "authenticity": _one_row_per_id((c.record_id, bool(c.confirmed)) for c in calls),
        "rectification": [_notice_row(n) for n in notices],
        # 按时复评率: read only by a scheme that weights it (a fingerprint reads its scheme's keys).
        REASSESSMENT_KEY: list(rows.reassessments),
        "app_share": [(i, i in rows.app_recorded) for i in done],
    }


def _notice_row(notice) -> tuple:
    """A notice as `closed_on_time` reads it: its deadline and, once closed as rectified, when."""
    accepted = notice.status == "closed" and notice.outcome == "accepted"
    return (notice.id, notice.deadline, accepted, notice.closed_at if accepted else None)


def review_fingerprint(rows: Mapping[str, Sequence[tuple]], keys: Iterable[str], row_format: int = FORMAT
                       ) -> Fingerprint:
    """The fingerprint of the sources a review's indicators (`keys`) read (`row_format`: that of
    the stored fingerprint it is to be compared with)."""
    return fingerprint({key: rows.get(key, ()) for key in keys}, row_format)


def stamp(record: QuarterlyReview | AnnualEvaluation, found: Fingerprint) -> None:
    """Store the fingerprint of the evidence the record's figures were just computed from."""
    record.evidence_sha256 = found.digest
    record.evidence_fingerprint = found.to_json()


def _stored(record: QuarterlyReview | AnnualEvaluation) -> Fingerprint | None:
    return None if record.evidence_fingerprint is None else Fingerprint.from_json(record.evidence_fingerprint)


@dataclass(frozen=True)
class Staleness:
    """What changed in the records since a review or evaluation was computed (nothing: fresh)."""

    changes: tuple[SourceChange, ...]
    descriptions: tuple[str, ...]
    current: Fingerprint

    @property
    def stale(self) -> bool:
        return bool(self.changes)

    @property
    def message(self) -> str:
        return f"{STALE_MESSAGE}：{'；'.join(self.descriptions)}"


def _legacy_review_changes(figures: ReviewFigures, found: QuarterEvidence) -> tuple[SourceChange, ...]:
    """For a review stored before fingerprints: its indicators against the evidence gathered now
    (records added or removed, records whose counting in the numerator flipped)."""
    result = []
    for item in figures.indicators:
        now = found.evidence.get(item.key)
        if now is None:
            continue
        counted_now = found.counted_ids.get(item.key)
        before_ids, now_ids = set(item.record_ids), set(now.record_ids)
        flipped = set()
        if item.counted_ids is not None and counted_now is not None:
            flipped = (set(item.counted_ids) ^ set(counted_now)) & before_ids & now_ids
        if (item.numerator, item.denominator) == (now.numerator, now.denominator) \
                and before_ids == now_ids and not flipped:
            continue
        result.append(SourceChange(item.key, tuple(str(i) for i in sorted(now_ids - before_ids)),
                                   tuple(str(i) for i in sorted(before_ids - now_ids)),
                                   tuple(str(i) for i in sorted(flipped))))
    return tuple(result)


def review_staleness(review: QuarterlyReview, gathered: QuarterEvidence | None = None) -> Staleness:
    """What changed in the records a review's figures read since it was computed.

    A review without a stored fingerprint (scored before fingerprints existed) is compared by its
    figures with `gathered`, the evidence as the KPIs gather it now.
    """
    figures = review.figures
    stored = _stored(review)
    current = review_fingerprint(review_evidence(review.contract_id, Quarter.parse(review.quarter)), figures.keys,
                                 FORMAT if stored is None else stored.format)
    if stored is not None:
        found = changes(stored, current)
    elif gathered is not None:
        found = _legacy_review_changes(figures, gathered)
    else:
        raise ValueError("a review without a fingerprint needs the evidence gathered now")
    order = {key: position for position, key in enumerate(figures.keys)}
    found = tuple(sorted(found, key=lambda change: order.get(change.key, len(order))))  # as the page lists them
    names = {item.key: item.name for item in figures.indicators}
    return Staleness(found, tuple(describe(change, names.get(change.key, change.key),
                                           _ID_PREFIX[RECORD_KINDS.get(change.key, "assignment")])
                                  for change in found), current)


def evaluation_evidence(contract: Contract, year: int,
                        standings: Sequence[tuple[Quarter, QuarterlyReview | None]]) -> dict[str, list[tuple]]:
    """What an evaluation reads: each quarter's newest review, the year's performance payments, the contract."""
    payments = db.session.execute(
        select(PaymentRecord.id, PaymentRecord.amount_fen, PaymentRecord.paid_on)
        .where(PaymentRecord.contract_id == contract.id, PaymentRecord.kind == "performance",
               PaymentRecord.year == year)
    ).all()
    return {
        "quarters": [(str(quarter), None) if review is None else
                     (str(quarter), review.id, review.revision, review.status, review.total_centi,
                      review.completed_volume, review.evidence_sha256)
                     for quarter, review in standings],
        "payments": [tuple(row) for row in payments],
        "contract": [(contract.id, contract.amount_fen, contract.performance_share_bp, contract.term_start,
                      contract.term_end)],
    }


def _legacy_evaluation_changes(stored: EvaluationFigures, now: EvaluationFigures | None) -> tuple[SourceChange, ...]:
    """For an evaluation stored before fingerprints: its figures against those computed now (None:
    the year can no longer be computed)."""
    if now is None:
        return (SourceChange("quarters"),)
    if stored == now:
        return ()
    before = {q.quarter: q for q in stored.quarters}
    after = {q.quarter: q for q in now.quarters}
    missing_before = {m.quarter: m.status for m in stored.missing_quarters}
    missing_after = {m.quarter: m.status for m in now.missing_quarters}
    quarters = sorted(q for q in set(before) | set(after) | set(missing_before) | set(missing_after)
                      if before.get(q) != after.get(q) or missing_before.get(q) != missing_after.get(q))
    found = [SourceChange("quarters", changed=tuple(quarters))] if quarters else []
    if stored.payment != now.payment:
        found.append(SourceChange("payments"))
    return tuple(found) or (SourceChange("quarters"),)


def evaluation_staleness(evaluation: AnnualEvaluation, rows: Mapping[str, Sequence[tuple]],
                         recomputed: EvaluationFigures | None = None) -> Staleness:
    """What changed since the evaluation was computed, given what it reads now (`evaluation_evidence`;
    and, for an evaluation stored before fingerprints, its figures computed now)."""
    stored = _stored(evaluation)
    current = fingerprint(rows, FORMAT if stored is None else stored.format)
    found = changes(stored, current) if stored is not None else _legacy_evaluation_changes(evaluation.figures,
                                                                                             recomputed)
    return Staleness(found, tuple(describe(change, *EVALUATION_SOURCES.get(change.key, (change.key, "#")))
                                  for change in found), current)
