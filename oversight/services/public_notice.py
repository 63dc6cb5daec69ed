"""The year's public notice (公示, issue 15): contractors, contracts, amounts and final ratings.

Public means without log-in, so only what is final and not personal is read: a contractor's
name and credit code (an organisation's, not a person's), a contract's number, title, method,
amount, term and services, the quarterly reviews and the annual evaluation once approved and
locked (审定锁定) — never a draft, a published result still open to comment, nor a settlement's
text — and the acceptance conclusions (`acceptance_conclusions`). No contact person, phone,
field worker, subject or user is read at all, nor any row id beyond what a page needs.

Among several counties each county's bureau publishes its own notice of its own contracts
(`public_notice(year, county_id)`); `notice_counties(year)` lists the counties with one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..domain.periods import quarters_of_year
from ..domain.vocabulary import AreaLevel, EvaluationStatus, ReviewStatus
from ..extensions import db
from ..models import AnnualEvaluation, Area, Contract, Contractor, QuarterlyReview
from .areas import every_county_id
from .reviews import newest_revisions


@dataclass(frozen=True)
class PublicRating:
    period: str  # "2025Q3" or "2025"
    score: Decimal
    rating: str


@dataclass(frozen=True)
class PublicContract:
    contractor: str
    credit_code: str
    code: str
    title: str
    procurement_method: str
    amount_fen: int
    term_start: date
    term_end: date
    services: tuple[str, ...]
    quarters: tuple[PublicRating | None, ...]  # Q1–Q4 of the year: None when no approved review
    annual: PublicRating | None
    acceptance: str | None  # the year's 履约验收 conclusion, when there is one


@dataclass(frozen=True)
class PublicNotice:
    year: int
    contracts: tuple[PublicContract, ...]

    @property
    def total_fen(self) -> int:
        return sum(contract.amount_fen for contract in self.contracts)

    @property
    def contractor_count(self) -> int:
        return len({contract.credit_code for contract in self.contracts})


def acceptance_conclusions(year: int) -> dict[int, str]:
    """Contract id → the year's 履约验收 conclusion in words (合格 / 基本合格 / 不合格), concluded ones
    only (`services.acceptances.concluded_acceptances`); a contract without one shows 暂无."""
    from .acceptances import concluded_acceptances

    return {acceptance.contract_id: acceptance.conclusion_label for acceptance in concluded_acceptances(year)}


def _in_year(year: int):
    return (Contract.term_start <= date(year, 12, 31)) & (Contract.term_end >= date(year, 1, 1))


def public_years(today: date) -> list[int]:
    """The years with a contract in its term, from the first up to this one, newest first."""
    rows = db.session.execute(select(Contract.term_start, Contract.term_end)).all()
    years = {year for start, end in rows for year in range(start.year, min(end.year, today.year) + 1)}
    return sorted(years, reverse=True)


def _approved_reviews(contract_ids: list[int], year: int) -> dict[tuple[int, str], QuarterlyReview]:
    quarters = [str(quarter) for quarter in quarters_of_year(year)]
    rows = db.session.execute(newest_revisions(
        QuarterlyReview, QuarterlyReview.quarter,
        (QuarterlyReview.status == ReviewStatus.APPROVED) & QuarterlyReview.locked.is_(True)
        & QuarterlyReview.contract_id.in_(contract_ids) & QuarterlyReview.quarter.in_(quarters))).scalars()
    return {(review.contract_id, review.quarter): review for review in rows}


def _approved_evaluations(contract_ids: list[int], year: int) -> dict[int, AnnualEvaluation]:
    rows = db.session.execute(newest_revisions(
        AnnualEvaluation, AnnualEvaluation.year,
        (AnnualEvaluation.status == EvaluationStatus.APPROVED) & AnnualEvaluation.locked.is_(True)
        & AnnualEvaluation.contract_id.in_(contract_ids) & (AnnualEvaluation.year == year))).scalars()
    return {evaluation.contract_id: evaluation for evaluation in rows}


@dataclass(frozen=True)
class NoticeCounty:
    """A county with a notice for the year: its GB/T 2260 code (the address), name and totals
    (`county_id` for the page's own look-ups, never shown nor in an address)."""
    county_id: int
    code: str
    name: str
    contract_count: int
    contractor_count: int
    total_fen: int


def several_counties() -> bool:
    """Whether the install has more than one county: then each county publishes its own notice."""
    return len(every_county_id()) > 1


def notice_county(code: str) -> Area | None:
    """The county area of a six-digit code, None for any other code."""
    if len(code) != 6 or not code.isdigit():
        return None
    return db.session.execute(select(Area).where(Area.code == code, Area.level == AreaLevel.COUNTY)).scalar()


def notice_counties(year: int) -> list[NoticeCounty]:
    """The counties with a contract in its term during the year (those with a notice), by code."""
    rows = db.session.execute(
        select(Area.id, Area.code, Area.name, Contractor.credit_code, Contract.amount_fen)
        .join(Area, Contract.county_id == Area.id).join(Contractor, Contract.contractor_id == Contractor.id)
        .where(_in_year(year))).all()
    grouped: dict[tuple[str, str, int], list] = {}
    for row in rows:
        grouped.setdefault((row.code, row.name, row.id), []).append(row)
    return [NoticeCounty(county_id, code, name, len(found), len({row.credit_code for row in found}),
                         sum(row.amount_fen for row in found))
            for (code, name, county_id), found in sorted(grouped.items())]


def public_notice(year: int, county_id: int | None = None) -> PublicNotice:
    """The year's notice: every contract in its term during the year (of the county, None: of
    every county), by contractor and number."""
    stmt = select(Contract).where(_in_year(year))
    if county_id is not None:
        stmt = stmt.where(Contract.county_id == county_id)
    contracts = db.session.execute(stmt).scalars().all()
    contracts.sort(key=lambda contract: (contract.contractor.name, contract.code))
    ids = [contract.id for contract in contracts]
    reviews, evaluations = _approved_reviews(ids, year), _approved_evaluations(ids, year)
    conclusions = acceptance_conclusions(year)
    rows = []
    for contract in contracts:
        quarters = []
        for quarter in quarters_of_year(year):
            review = reviews.get((contract.id, str(quarter)))
            quarters.append(None if review is None else PublicRating(
                str(quarter), Decimal(review.total_centi).scaleb(-2), review.rating))
        evaluation = evaluations.get(contract.id)
        rows.append(PublicContract(
            contractor=contract.contractor.name, credit_code=contract.contractor.credit_code, code=contract.code,
            title=contract.title, procurement_method=contract.procurement_method, amount_fen=contract.amount_fen,
            term_start=contract.term_start, term_end=contract.term_end,
            services=tuple(line.label for line in contract.service_lines), quarters=tuple(quarters),
            annual=None if evaluation is None else PublicRating(
                str(year), Decimal(evaluation.score_centi).scaleb(-2), evaluation.rating),
            acceptance=conclusions.get(contract.id)))
    return PublicNotice(year, tuple(rows))
