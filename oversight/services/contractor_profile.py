"""A contractor's past performance (履约档案) for a tender's scoring committee (issue 15).

Every contract and year of one contractor: the quarterly reviews and the annual evaluation as
published (a draft is no result yet: the contractor itself reads this profile), the spot-check
pass rate with its 95 % interval — the same design-based estimate the reviews score, per
quarter and pooled over the year's draws —, the rectification rounds, the complaints and the
callbacks' satisfaction, and the appeals with their outcomes. Read from the stored records each
time; nothing is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..clock import day_starts_at
from ..domain.estimates import DesignEstimate, design_estimate
from ..domain.past_performance import PastPerformance, YearResult, past_performance_score
from ..domain.periods import Quarter, quarters_of_year
from ..domain.sampling import FrozenCells
from ..domain.statistics import Rate
from ..domain.vocabulary import AppealDecision, AppealStatus, ComplaintSource, EvaluationStatus, NoticeOutcome, \
    NoticeStatus, ReviewStatus
from ..extensions import db
from ..models import Appeal, AnnualEvaluation, Complaint, Contract, Contractor, DrawItem, QuarterlyReview, \
    RectificationNotice, SamplingDraw, SpotCheck
from .callbacks import SATISFIED_FROM
from .check_results import call_counts, check_counts
from .draws import SPOT_CHECK
from .evaluations import current_evaluations_query
from .reviews import contract_reviews, total_of


@dataclass(frozen=True)
class QuarterLine:
    """One quarter of a contract: its published review (None when none yet) and its spot checks."""

    quarter: Quarter
    review: QuarterlyReview | None
    spot_check: DesignEstimate

    @property
    def total(self) -> Decimal | None:
        return None if self.review is None else total_of(self.review)

    @property
    def approved(self) -> bool:
        return self.review is not None and self.review.status == ReviewStatus.APPROVED


@dataclass(frozen=True)
class Rectifications:
    """The notices issued in the year (county year of issue): first rounds, every round, how they ended."""

    notices: int  # first rounds: one per failed check
    rounds: int  # every round issued
    reissued: int  # rounds after the first
    escalated: int
    accepted: int
    not_accepted: int
    withdrawn: int  # closed as 申诉改判，撤销
    open: int


@dataclass(frozen=True)
class Complaints:
    total: int
    by_source: dict[str, int]  # ComplaintSource code → count
    callbacks_answered: int
    satisfaction: Rate  # answered callbacks satisfied (levels SATISFIED_FROM–5)


@dataclass(frozen=True)
class Appeals:
    filed: int
    upheld: int  # 维持原结论
    overturned: int  # 改判为合格
    pending: int


@dataclass(frozen=True)
class YearLine:
    year: int
    quarters: tuple[QuarterLine, ...]
    evaluation: AnnualEvaluation | None  # the newest published revision
    spot_check: DesignEstimate  # over every spot-check draw of the year's quarters
    rectifications: Rectifications
    complaints: Complaints
    appeals: Appeals

    @property
    def evaluation_score(self) -> Decimal | None:
        return None if self.evaluation is None else Decimal(self.evaluation.score_centi).scaleb(-2)

    @property
    def evaluation_approved(self) -> bool:
        return self.evaluation is not None and self.evaluation.status == EvaluationStatus.APPROVED

    def result(self, contract_code: str) -> YearResult:
        """The year's approved results, as the past-performance score reads them."""
        return YearResult(contract_code, self.year, self.evaluation_score if self.evaluation_approved else None,
                          tuple(line.total for line in self.quarters if line.approved))


@dataclass(frozen=True)
class ContractLine:
    contract: Contract
    years: tuple[YearLine, ...]


@dataclass(frozen=True)
class ContractorProfile:
    contractor: Contractor
    contracts: tuple[ContractLine, ...]
    today: date

    def past_performance(self, max_points: Decimal | int | str = 10) -> PastPerformance:
        """The past-performance points out of `max_points` (`domain.past_performance`)."""
        return past_performance_score((year.result(line.contract.code) for line in self.contracts
                                       for year in line.years), max_points)


def contract_years(contract: Contract, today: date) -> list[int]:
    """The years of the contract's term that have begun by `today`."""
    return list(range(contract.term_start.year, min(contract.term_end.year, today.year) + 1))


def _quarters(contract: Contract, year: int, today: date) -> list[Quarter]:
    return [quarter for quarter in quarters_of_year(year)
            if quarter.start <= min(contract.term_end, today) and quarter.end >= contract.term_start]


def _cells(contract_id: int, quarters: list[Quarter]) -> dict[int, tuple[str, FrozenCells]]:
    """Each spot-check draw of the quarters: its quarter and its frozen population's cells (no draw re-computed)."""
    rows = db.session.execute(select(SamplingDraw.id, SamplingDraw.quarter, SamplingDraw.population,
                                     SamplingDraw.rule).where(
        SamplingDraw.contract_id == contract_id, SamplingDraw.quarter.in_([str(q) for q in quarters]),
        SamplingDraw.purpose == SPOT_CHECK)).all()
    return {row.id: (row.quarter, FrozenCells.of_stored(row.population, bool((row.rule or {}).get("risk_weighted"))))
            for row in rows}


def _spot_checks(contract_id: int, quarters: list[Quarter]) -> tuple[dict[Quarter, DesignEstimate], DesignEstimate]:
    """Each quarter's design-based pass rate over its draws' cells (final verdicts, as the review
    scores it: `check_results.quarter_estimates`), and the year's over every cell of its quarters."""
    cells = _cells(contract_id, quarters)
    by_quarter, year_strata = {}, []
    for quarter in quarters:
        checks = check_counts(contract_id, quarter)
        strata = []
        for draw_id, (draw_quarter, frozen) in cells.items():
            if draw_quarter == str(quarter):
                strata += frozen.strata([(c.record_id, c.stratum, int(c.passed), 1)
                                         for c in checks if c.draw_id == draw_id])
        by_quarter[quarter] = design_estimate(strata)
        year_strata += strata
    return by_quarter, design_estimate(year_strata)


def _in_year(column, year: int):
    return (column >= day_starts_at(date(year, 1, 1))) & (column < day_starts_at(date(year + 1, 1, 1)))


def _rectifications(contract_id: int, year: int) -> Rectifications:
    notices = db.session.execute(select(RectificationNotice).where(
        RectificationNotice.contract_id == contract_id, RectificationNotice.year == year)).scalars().all()
    outcomes = [notice.outcome for notice in notices]
    return Rectifications(
        notices=sum(notice.round == 1 for notice in notices), rounds=len(notices),
        reissued=sum(notice.round > 1 for notice in notices),
        escalated=sum(notice.escalated_at is not None for notice in notices),
        accepted=outcomes.count(NoticeOutcome.ACCEPTED), not_accepted=outcomes.count(NoticeOutcome.NOT_ACCEPTED),
        withdrawn=outcomes.count(NoticeOutcome.WITHDRAWN),
        open=sum(notice.status != NoticeStatus.CLOSED for notice in notices))


def _complaints(contract_id: int, quarters: list[Quarter], year: int) -> Complaints:
    counted = dict(db.session.execute(select(Complaint.source, func.count()).where(
        Complaint.contract_id == contract_id, _in_year(Complaint.created_at, year)).group_by(Complaint.source)).all())
    answered = [call for quarter in quarters for call in call_counts(contract_id, quarter) if call.answered]
    satisfied = sum(call.satisfaction >= SATISFIED_FROM for call in answered)
    return Complaints(sum(counted.values()), {source: counted.get(source, 0) for source in ComplaintSource.codes()},
                      len(answered), Rate.of(satisfied, len(answered)))


def _appeals(contract_id: int, quarters: list[Quarter]) -> Appeals:
    """The appeals of the spot checks of the year's draws (whenever filed) and how they were decided."""
    rows = db.session.execute(
        select(Appeal.status, Appeal.decision).join(SpotCheck, Appeal.spot_check_id == SpotCheck.id)
        .join(DrawItem, SpotCheck.draw_item_id == DrawItem.id).join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
        .where(Appeal.contract_id == contract_id, SamplingDraw.quarter.in_([str(q) for q in quarters]))).all()
    decided = [row.decision for row in rows if row.status == AppealStatus.DECIDED]
    return Appeals(len(rows), decided.count(AppealDecision.UPHELD), decided.count(AppealDecision.OVERTURNED),
                   len(rows) - len(decided))


def contract_line(contract: Contract, today: date) -> ContractLine:
    """Every begun year of the contract with its published results and what the records show."""
    reviews = {review.quarter: review for review in contract_reviews(contract.id, published_only=True)}
    evaluations = {evaluation.year: evaluation for evaluation in db.session.execute(
        current_evaluations_query(published_only=True).where(AnnualEvaluation.contract_id == contract.id)).scalars()}
    years = []
    for year in contract_years(contract, today):
        quarters = _quarters(contract, year, today)
        by_quarter, year_estimate = _spot_checks(contract.id, quarters)
        years.append(YearLine(
            year=year,
            quarters=tuple(QuarterLine(q, reviews.get(str(q)), by_quarter[q]) for q in quarters),
            evaluation=evaluations.get(year), spot_check=year_estimate,
            rectifications=_rectifications(contract.id, year),
            complaints=_complaints(contract.id, quarters, year), appeals=_appeals(contract.id, quarters)))
    return ContractLine(contract, tuple(years))


def contractor_profile(contractor: Contractor, today: date) -> ContractorProfile:
    """The contractor's profile: each of its contracts (by code) and their years up to `today`."""
    contracts = db.session.execute(select(Contract).where(Contract.contractor_id == contractor.id)
                                   .order_by(Contract.term_start, Contract.code)).scalars()
    return ContractorProfile(contractor, tuple(contract_line(contract, today) for contract in contracts), today)


def past_performance_for(contractor_id: int, today: date, max_points: Decimal | int | str = 10) -> PastPerformance:
    """A tender's past-performance scoring item for one bidder: its profile's score out of
    `max_points` (`domain.past_performance`; None points when no approved result)."""
    contractor = db.session.get(Contractor, contractor_id)
    if contractor is None:
        raise LookupError(f"承接机构 {contractor_id} 不存在")
    return contractor_profile(contractor, today).past_performance(max_points)
