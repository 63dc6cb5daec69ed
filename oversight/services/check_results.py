"""What the quarter's spot checks and callbacks found, per contract, service type, worker and field.

Every rate is a `Rate` (count and 95 % Wilson interval). Pass rates and field error rates count
the random and flagged strata; complaint-targeted checks were not drawn at random and are
reported apart. The design-based estimates (`oversight.domain.estimates`) weight each stratum of
each draw — a worker's cell of the random stratum, the flagged stratum — by its size in the
frozen population: they are what the KPI scores (SPEC section 10), the raw k/n shown beside them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..adapters.bulk_sql import core_rows
from ..domain.comparison import (
    DEFAULT_RECHECK_MIN_CHECKS,
    Comparison,
    ErrorCount,
    FieldComparison,
    tally,
    tally_by_field,
    worker_flags,
)
from ..domain.periods import Quarter
from ..domain.estimates import DesignEstimate, design_estimate
from ..domain.sampling import STRATUM_TARGETED, FrozenCells, SamplingPlan, draw_strata, lot_accepted
from ..domain.statistics import Rate
from ..domain.vocabulary import LotVerdict, NoticeOutcome, ServiceType, WorkerFlag, label_of
from ..extensions import db
from ..models.county import contract_county_id
from ..models import (
    Appeal,
    Callback,
    CompletionRecord,
    DrawItem,
    FieldWorker,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
)
from .appeals import APPEAL_COLUMNS, final_of
from .callbacks import SATISFIED_FROM
from .draws import CALLBACK, SPOT_CHECK, recompute, standard_for, stored_params, stored_population
from .spot_checks import closed_on_time, notice_overdue

DEFAULT_RETRAIN_BP = 1000
DEFAULT_RECHECK_BP = 3000


@dataclass(frozen=True)
class CheckFact:
    """One recorded spot check with what it is grouped by."""

    draw_id: int
    record_id: int
    stratum: str
    service_type: str
    worker_no: str
    worker: str
    passed: bool
    comparison: Comparison


@dataclass(frozen=True)
class CheckCount:
    """One recorded spot check as scoring counts it: its verdict and field counts."""

    record_id: int
    stratum: str
    passed: bool
    compared: int
    differing: int
    draw_id: int | None = None


@dataclass(frozen=True)
class CallCount:
    """One callback of a callback draw, as scoring counts it."""

    record_id: int
    status: str
    confirmed: bool | None
    satisfaction: int | None

    @property
    def answered(self) -> bool:
        return self.status == "answered"


@dataclass(frozen=True, kw_only=True)
class CallFact(CallCount):
    """One callback of a callback draw with what it is grouped by."""

    service_type: str
    worker_no: str
    worker: str


@dataclass(frozen=True)
class Figures:
    """The four rates of one group (a contract, a service type or a worker)."""

    label: str
    passed: Rate
    field_errors: Rate
    satisfaction: Rate
    authenticity: Rate
    flag: str | None = None
    key: str = ""

    @property
    def flag_label(self) -> str:
        return label_of(WorkerFlag, self.flag) if self.flag else ""


@dataclass(frozen=True)
class LotDecision:
    """The lot decision of one spot-check draw, and its design-based pass-rate estimate (None
    before any random record is checked)."""

    draw: SamplingDraw
    plan: SamplingPlan | None
    random_drawn: int
    random_checked: int
    failures: int
    decision: str  # accepted | rejected | pending | none (a share plan decides no lot)
    estimate: DesignEstimate | None

    @property
    def decision_label(self) -> str:
        return label_of(LotVerdict, self.decision)


@dataclass(frozen=True)
class ContractResults:
    """Everything the results page shows for one contract and quarter."""

    quarter: Quarter
    overall: Figures
    targeted: Figures
    by_service_type: list[Figures]
    by_worker: list[Figures]
    by_field: list[tuple[str, Rate]]
    lots: list[LotDecision]
    callback_status: dict[str, int]
    notices: dict[str, int]
    retrain_threshold: Decimal
    recheck_threshold: Decimal
    recheck_min_checks: int
    estimates: dict[str, DesignEstimate] | None = None  # spot_check_pass, field_accuracy: what the KPI scores

    @property
    def flagged_workers(self) -> list[Figures]:
        return [row for row in self.by_worker if row.flag]


def stored_comparison(data: dict) -> Comparison:
    """A spot check's stored comparison as the domain object it was saved from."""
    return Comparison(data["service_type"], tuple(FieldComparison(**field) for field in data["fields"]))


def _worker_label(worker_no: str, name: str) -> str:
    return f"{worker_no} {name}"


def _drawn_rows(columns: tuple, draw_item_id, record_id, contract_id: int, quarter: Quarter, purpose: str, *,
                workers: bool = True) -> list:
    """`columns` of the checks or callbacks of the contract's draws for the quarter, with each
    one's draw, stratum and service type, and its record's worker unless not `workers` (every
    record has one, so the rows are the same), by record id. Spot checks come with their
    appeal's columns (`APPEAL_COLUMNS`, None without a decided appeal)."""
    stmt = (select(*columns, DrawItem.draw_id, DrawItem.stratum, SamplingDraw.service_type)
            .join(DrawItem, draw_item_id == DrawItem.id)
            .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
            .where(SamplingDraw.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
                   SamplingDraw.purpose == purpose)
            .order_by(record_id))
    if purpose == SPOT_CHECK:
        stmt = (stmt.add_columns(*APPEAL_COLUMNS, Appeal.recheck_comparison)
                .outerjoin(Appeal, (Appeal.spot_check_id == SpotCheck.id) & (Appeal.status == "decided")))
    if workers:
        stmt = (stmt.add_columns(FieldWorker.worker_no, FieldWorker.name)
                .join(CompletionRecord, record_id == CompletionRecord.id)
                .join(FieldWorker, CompletionRecord.worker_id == FieldWorker.id))
    return core_rows(stmt)


def check_facts(contract_id: int, quarter: Quarter) -> list[CheckFact]:
    """The recorded spot checks of the contract's draws for the quarter, with their final verdicts."""
    rows = _drawn_rows(_CHECK_COLUMNS + (SpotCheck.comparison,), SpotCheck.draw_item_id, SpotCheck.record_id,
                       contract_id, quarter, SPOT_CHECK)
    return [CheckFact(row.draw_id, row.record_id, row.stratum, row.service_type, row.worker_no,
                      _worker_label(row.worker_no, row.name), final_of(row).passed,
                      stored_comparison(_final_comparison(row)))
            for row in rows]


# A check's own verdict and counts; with the appeal's (see `_drawn_rows`) they give the final ones.
_CHECK_COLUMNS = (SpotCheck.record_id, SpotCheck.passed, SpotCheck.fields_compared, SpotCheck.fields_differing)


def _final_comparison(row) -> dict:
    """The comparison behind the final verdict: a decided appeal's re-check, else the check's own."""
    return row.recheck_comparison if row.recheck_passed is not None else row.comparison


def check_counts(contract_id: int, quarter: Quarter) -> list[CheckCount]:
    """The same checks as `check_facts`, with the field counts stored beside each comparison
    instead of the comparison itself (reading thousands of comparisons costs more than the rest)."""
    rows = _drawn_rows(_CHECK_COLUMNS, SpotCheck.draw_item_id, SpotCheck.record_id, contract_id, quarter, SPOT_CHECK,
                       workers=False)
    return [CheckCount(row.record_id, row.stratum, final.passed, final.compared, final.differing, row.draw_id)
            for row in rows for final in (final_of(row),)]


_CALL_COLUMNS = (Callback.record_id, Callback.status, Callback.service_confirmed, Callback.satisfaction)


def call_facts(contract_id: int, quarter: Quarter) -> list[CallFact]:
    """The callbacks of the contract's callback draws for the quarter."""
    rows = _drawn_rows(_CALL_COLUMNS, Callback.draw_item_id, Callback.record_id, contract_id, quarter, CALLBACK)
    return [CallFact(row.record_id, row.status, row.service_confirmed, row.satisfaction, service_type=row.service_type,
                     worker_no=row.worker_no, worker=_worker_label(row.worker_no, row.name)) for row in rows]


def call_counts(contract_id: int, quarter: Quarter) -> list[CallCount]:
    """The same callbacks as `call_facts`, without what they are grouped by."""
    rows = _drawn_rows(_CALL_COLUMNS, Callback.draw_item_id, Callback.record_id, contract_id, quarter, CALLBACK,
                       workers=False)
    return [CallCount(row.record_id, row.status, row.service_confirmed, row.satisfaction) for row in rows]


@dataclass(frozen=True)
class QuarterChecks:
    """The rows a contract's quarter's check figures count: its spot checks, its callbacks and
    the notices due (`quarter_checks`)."""

    checks: list[CheckCount]
    calls: list[CallCount]
    notices: list


def quarter_checks(contract_id: int, quarter: Quarter, due_by: date | None = None) -> QuarterChecks:
    """The spot checks and callbacks of the quarter's draws and the notices due in it (on or
    before `due_by` when given)."""
    return QuarterChecks(check_counts(contract_id, quarter), call_counts(contract_id, quarter),
                         _notice_rows(contract_id, quarter, due_by))


def _random(checks: Iterable[CheckFact | CheckCount]) -> list:
    """Checks of records drawn at random (the random and flagged strata)."""
    return [check for check in checks if check.stratum != STRATUM_TARGETED]


def figures(label: str, checks: Sequence[CheckFact], calls: Sequence[CallFact], flag: str | None = None,
            key: str = "") -> Figures:
    """The four rates of a group of checks and calls."""
    errors = tally(check.comparison for check in checks)
    answered = [call for call in calls if call.answered]
    return Figures(
        label=label,
        passed=Rate.of(sum(check.passed for check in checks), len(checks)),
        field_errors=Rate.of(errors.differing, errors.compared),
        satisfaction=Rate.of(sum(call.satisfaction >= SATISFIED_FROM for call in answered), len(answered)),
        authenticity=Rate.of(sum(bool(call.confirmed) for call in answered), len(answered)),
        flag=flag,
        key=key,
    )


def _by_worker(checks: Sequence[CheckFact], calls: Sequence[CallFact], flags: dict[str, str]) -> list[Figures]:
    """Figures per worker (by 工号), flagged where the error rate passes a threshold."""
    labels = {fact.worker_no: fact.worker for fact in [*checks, *calls]}
    return [figures(labels[no], [c for c in checks if c.worker_no == no], [c for c in calls if c.worker_no == no],
                    flags.get(no), key=no) for no in sorted(labels)]


def _thresholds(county_id: int, year: int) -> tuple[Decimal, Decimal, int]:
    """The county's retraining and re-check thresholds of the year (rates, as its last version of
    the year has them) and the re-check's minimum of checked records."""
    standard = standard_for(county_id, date(year, 12, 31))
    retrain = standard.retrain_threshold_bp if standard else DEFAULT_RETRAIN_BP
    recheck = standard.recheck_threshold_bp if standard else DEFAULT_RECHECK_BP
    min_checks = standard.recheck_min_checks if standard else DEFAULT_RECHECK_MIN_CHECKS
    return Decimal(retrain) / 10000, Decimal(recheck) / 10000, min_checks


def lot_decision(draw: SamplingDraw, checks: Sequence[CheckFact]) -> LotDecision:
    """Failures among the random stratum against Ac; Re reached decides early."""
    result = recompute(draw)
    mine = [check for check in checks if check.draw_id == draw.id]
    random_checks = [check for check in mine if check.stratum == "random"]
    failures = sum(not check.passed for check in random_checks)
    drawn = result.stratum("random").sample
    plan = result.plan
    if plan is None or not plan.decides_lot:
        decision = "none"
    elif failures >= plan.re:
        decision = "rejected"
    elif len(random_checks) < drawn:
        decision = "pending"
    else:
        decision = "accepted" if lot_accepted(failures, plan) else "rejected"
    estimate = design_estimate(draw_strata(stored_population(draw), stored_params(draw).risk_weighted,
                                           [(c.record_id, c.stratum, int(c.passed), 1) for c in mine]))
    return LotDecision(draw, plan, drawn, len(random_checks), failures, decision,
                       estimate if estimate.has_data else None)


def _frozen_populations(contract_id: int, quarter: Quarter) -> dict[int, FrozenCells]:
    """Each spot-check draw's frozen population's cells, by draw id (the columns only: no draw is
    re-computed)."""
    rows = core_rows(select(SamplingDraw.id, SamplingDraw.population, SamplingDraw.rule).where(
        SamplingDraw.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
        SamplingDraw.purpose == SPOT_CHECK))
    return {row.id: FrozenCells.of_stored(row.population, bool((row.rule or {}).get("risk_weighted"))) for row in rows}


def draw_estimates(draw: SamplingDraw) -> dict[str, DesignEstimate]:
    """One spot-check draw's design-based pass rate and field accuracy from its recorded checks."""
    found = db.session.execute(
        select(SpotCheck.record_id, DrawItem.stratum, SpotCheck.passed, SpotCheck.fields_compared,
               SpotCheck.fields_differing, *APPEAL_COLUMNS)
        .join(DrawItem, SpotCheck.draw_item_id == DrawItem.id)
        .outerjoin(Appeal, (Appeal.spot_check_id == SpotCheck.id) & (Appeal.status == "decided"))
        .where(DrawItem.draw_id == draw.id)).all()
    rows = [(row.record_id, row.stratum, final.passed, final.compared, final.differing)
            for row in found for final in (final_of(row),)]  # the final verdicts (appeals decided)
    population, risk_weighted = stored_population(draw), stored_params(draw).risk_weighted
    return {
        "spot_check_pass": design_estimate(draw_strata(population, risk_weighted,
                                                       [(r, stratum, int(ok), 1) for r, stratum, ok, _, _ in rows])),
        "field_accuracy": design_estimate(draw_strata(population, risk_weighted, [
            (r, stratum, compared - differing, compared) for r, stratum, _, compared, differing in rows])),
    }


def quarter_estimates(contract_id: int, quarter: Quarter,
                      checks: Iterable[tuple[int, int, str, bool, int, int]]) -> dict[str, DesignEstimate]:
    """The design-based spot-check pass rate and field accuracy of the contract's quarter, over
    every spot-check draw's cells, from the checks as (draw id, record id, stratum, passed, fields
    compared, fields differing); targeted checks are reported apart inside each estimate."""
    by_draw: dict[int, list] = {}
    for check in checks:
        by_draw.setdefault(check[0], []).append(check)
    passes, fields = [], []
    for draw_id, cells in _frozen_populations(contract_id, quarter).items():
        mine = by_draw.get(draw_id, [])
        passes += cells.strata([(r, stratum, int(ok), 1) for _, r, stratum, ok, _, _ in mine])
        fields += cells.strata([(r, stratum, compared - differing, compared)
                                for _, r, stratum, _, compared, differing in mine])
    return {"spot_check_pass": design_estimate(passes), "field_accuracy": design_estimate(fields)}


def _spot_check_draws(contract_id: int, quarter: Quarter) -> list[SamplingDraw]:
    return list(db.session.execute(select(SamplingDraw).where(
        SamplingDraw.contract_id == contract_id, SamplingDraw.quarter == str(quarter),
        SamplingDraw.purpose == SPOT_CHECK).order_by(SamplingDraw.service_type)).scalars())


def _due_in(contract_id: int, quarter: Quarter, due_by: date | None = None) -> tuple:
    """The contract's notices whose deadline falls in the quarter (and, given `due_by`, on or before it),
    those withdrawn when an appeal overturned their check's failure left out."""
    return (RectificationNotice.contract_id == contract_id, RectificationNotice.deadline >= quarter.start,
            RectificationNotice.deadline <= (quarter.end if due_by is None else min(quarter.end, due_by)),
            RectificationNotice.outcome.is_distinct_from(NoticeOutcome.WITHDRAWN))


def _notices_due(contract_id: int, quarter: Quarter) -> list[RectificationNotice]:
    return list(db.session.execute(select(RectificationNotice).where(*_due_in(contract_id, quarter))
                                   .order_by(RectificationNotice.id)).scalars())


def _notice_rows(contract_id: int, quarter: Quarter, due_by: date | None = None) -> list:
    """The same notices as rows of what `closed_on_time` reads and their check's record id."""
    return core_rows(
        select(RectificationNotice.id, RectificationNotice.status, RectificationNotice.outcome,
               RectificationNotice.closed_at, RectificationNotice.deadline, SpotCheck.record_id)
        .join(SpotCheck, RectificationNotice.spot_check_id == SpotCheck.id)
        .where(*_due_in(contract_id, quarter, due_by)).order_by(RectificationNotice.id))


@dataclass(frozen=True)
class WorkerResults:
    """A contract's quarter by worker, flagged for retraining or a targeted re-check."""

    quarter: Quarter
    by_worker: list[Figures]
    retrain_threshold: Decimal
    recheck_threshold: Decimal
    recheck_min_checks: int


def _worker_results(contract_id: int, quarter: Quarter, drawn: Sequence[CheckFact],
                    calls: Sequence[CallFact]) -> WorkerResults:
    retrain, recheck, min_checks = _thresholds(contract_county_id(db.session, contract_id), quarter.year)
    by_worker: dict[str, list[CheckFact]] = {}
    for check in drawn:
        by_worker.setdefault(check.worker_no, []).append(check)
    flags = worker_flags({no: tally(c.comparison for c in mine) for no, mine in sorted(by_worker.items())},
                         retrain, recheck, checks={no: len(mine) for no, mine in by_worker.items()},
                         min_checks=min_checks)
    return WorkerResults(quarter, _by_worker(drawn, calls, flags), retrain, recheck, min_checks)


def worker_results(contract_id: int, quarter: Quarter) -> WorkerResults:
    """The recorded random checks of the contract's quarter by worker, without callbacks (so every
    row is a worker with checks) and without the lot decisions, which re-compute the draws: what
    the contractor's dashboard shows for retraining."""
    return _worker_results(contract_id, quarter, _random(check_facts(contract_id, quarter)), [])


def contract_results(contract_id: int, quarter: Quarter, today: date) -> ContractResults:
    """The results page of one contract and quarter."""
    checks, calls = check_facts(contract_id, quarter), call_facts(contract_id, quarter)
    drawn = _random(checks)
    workers = _worker_results(contract_id, quarter, drawn, calls)
    labels = {}
    for check in drawn:
        labels.update({field.key: field.label for field in check.comparison.fields})
    by_field = [(labels[key], Rate.of(count.differing, count.compared))
                for key, count in tally_by_field(c.comparison for c in drawn).items()]
    status_counts: dict[str, int] = {}
    for call in calls:
        status_counts[call.status] = status_counts.get(call.status, 0) + 1
    notices = _notices_due(contract_id, quarter)
    return ContractResults(
        quarter=quarter,
        overall=figures("合计", drawn, calls),
        targeted=figures("定向抽查", [c for c in checks if c.stratum == STRATUM_TARGETED], []),
        by_service_type=[
            figures(service_type.label, [c for c in drawn if c.service_type == service_type],
                    [c for c in calls if c.service_type == service_type])
            for service_type in ServiceType
            if any(f.service_type == service_type for f in [*checks, *calls])],
        by_worker=workers.by_worker,
        by_field=by_field,
        lots=[lot_decision(draw, checks) for draw in _spot_check_draws(contract_id, quarter)],
        callback_status=status_counts,
        notices={"due": len(notices), "closed_on_time": sum(closed_on_time(n) for n in notices),
                 "overdue": sum(notice_overdue(n, today) for n in notices)},
        retrain_threshold=workers.retrain_threshold,
        recheck_threshold=workers.recheck_threshold,
        recheck_min_checks=workers.recheck_min_checks,
        estimates=quarter_estimates(contract_id, quarter, [
            (c.draw_id, c.record_id, c.stratum, c.passed, c.comparison.compared, c.comparison.differing)
            for c in checks]),
    )


def _ids(facts: Iterable, keep: Callable = lambda fact: True) -> list[int]:
    return sorted(fact.record_id for fact in facts if keep(fact))


def _lot_estimates(contract_id: int, quarter: Quarter) -> list[dict]:
    """Each spot-check draw's lot decision and size-weighted pass rate (re-computes the draws)."""
    checks = check_facts(contract_id, quarter)
    estimates = []
    for lot in (lot_decision(draw, checks) for draw in _spot_check_draws(contract_id, quarter)):
        estimates.append({
            "draw_id": lot.draw.id, "service_type": lot.draw.service_type,
            "weighted_pass_rate": None if lot.estimate is None else str(round(Decimal(lot.estimate.value), 4)),
            "estimate": None if lot.estimate is None else lot.estimate.as_dict(),
            "lot_decision": lot.decision,
        })
    return estimates


def quarter_check_figures(contract_id: int, quarter: Quarter | str, *, lots: bool = True,
                          due_by: date | None = None, read: QuarterChecks | None = None) -> dict:
    """The quarter's check figures for KPI scoring, each with the record ids behind it.

    spot_checks: random and flagged strata (targeted apart), with the size-weighted estimate per
    draw (left out when not `lots`: it re-computes every draw); field_accuracy: compared and
    differing fields of the same checks; estimates: the design-based spot_check_pass and
    field_accuracy over every draw's cells — what the KPI scores (`DesignEstimate.as_dict`);
    callbacks: answered, satisfied (levels 3–5), confirmed; rectifications: notices whose deadline
    falls in the quarter (on or before `due_by` when given: a running quarter's preview) and those
    closed as rectified on or before their deadline. `read`: the rows `quarter_checks` gives,
    when the caller has them already.
    """
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    read = quarter_checks(contract_id, quarter, due_by) if read is None else read
    checks, calls, notices = read.checks, read.calls, read.notices
    drawn = _random(checks)
    targeted = [c for c in checks if c.stratum == STRATUM_TARGETED]
    errors = ErrorCount(sum(c.differing for c in drawn), sum(c.compared for c in drawn))
    answered = [c for c in calls if c.answered]
    on_time = [n for n in notices if closed_on_time(n)]
    notice_records = {n.id: n.record_id for n in notices}
    return {
        "contract_id": contract_id,
        "quarter": str(quarter),
        "spot_checks": {
            "checked": len(drawn), "passed": sum(c.passed for c in drawn),
            "record_ids": _ids(drawn), "passed_record_ids": _ids(drawn, lambda c: c.passed),
            "targeted": {"checked": len(targeted), "passed": sum(c.passed for c in targeted),
                         "record_ids": _ids(targeted)},
            **({"draws": _lot_estimates(contract_id, quarter)} if lots else {}),
        },
        "field_accuracy": {"compared": errors.compared, "differing": errors.differing, "record_ids": _ids(drawn),
                           "differing_record_ids": _ids(drawn, lambda c: c.differing > 0)},
        "callbacks": {
            "answered": len(answered),
            "satisfied": sum(c.satisfaction >= SATISFIED_FROM for c in answered),
            "confirmed": sum(bool(c.confirmed) for c in answered),
            "record_ids": _ids(answered),
            "satisfied_record_ids": _ids(answered, lambda c: c.satisfaction >= SATISFIED_FROM),
            "confirmed_record_ids": _ids(answered, lambda c: bool(c.confirmed)),
        },
        "rectifications": {
            "due": len(notices), "closed_by_deadline": len(on_time),
            "notice_ids": [n.id for n in notices], "closed_by_deadline_notice_ids": [n.id for n in on_time],
            "record_ids": sorted(notice_records.values()),
            "closed_by_deadline_record_ids": sorted(notice_records[n.id] for n in on_time),
        },
        "estimates": {key: estimate.as_dict() for key, estimate in quarter_estimates(contract_id, quarter, [
            (c.draw_id, c.record_id, c.stratum, c.passed, c.compared, c.differing) for c in checks]).items()},
    }
