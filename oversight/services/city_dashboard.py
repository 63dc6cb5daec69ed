"""The city dashboard (市级监管): each county's figures by grouped queries, added up by
`domain.city_figures`.

Every figure is one statement grouped by the contract's county (`GROUP BY contracts.county_id`),
restricted to the counties below the user's area: five statements for any number of counties,
never one per county per figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, literal, select

from ..clock import day_starts_at
from ..domain.city_figures import CityFigures, CountyCounts, city_figures
from ..domain.periods import Quarter
from ..domain.vocabulary import AreaLevel
from ..extensions import db
from ..models import Area, Complaint, Contract, DrawItem, QuarterlyReview, RectificationNotice, SamplingDraw, SpotCheck
from .reviews import current_reviews_query
from .spot_checks import overdue_notice_condition

BELOW_CENTI = 8000  # a quarterly total under 80 points (stored in hundredths)
# The levels whose users see a city dashboard: a city adds up its counties, a province all of its
# cities' counties.
ABOVE_COUNTY = frozenset({AreaLevel.CITY, AreaLevel.PROVINCE})


@dataclass(frozen=True)
class CityDashboard:
    area: Area
    quarter: Quarter | None  # the last quarter with a published review in any of the counties
    figures: CityFigures
    cities: dict[int, str]  # county id → its city's name (a province's dashboard groups by city)


def counties_below(area: Area) -> list[Area]:
    """The counties of a city, or of every city of a province, in code order."""
    if area.level == AreaLevel.CITY:
        parents = select(Area.id).where(Area.id == area.id)
    elif area.level == AreaLevel.PROVINCE:
        parents = select(Area.id).where(Area.parent_id == area.id, Area.level == AreaLevel.CITY)
    else:
        return []
    return list(db.session.execute(select(Area).where(Area.level == AreaLevel.COUNTY, Area.parent_id.in_(parents))
                                   .order_by(Area.code)).scalars())


def last_reviewed_quarter(county_ids: list[int]) -> Quarter | None:
    """The newest quarter any of the counties' contracts has a published (non-draft) review of."""
    newest = db.session.execute(
        select(func.max(QuarterlyReview.quarter)).join(Contract, QuarterlyReview.contract_id == Contract.id)
        .where(QuarterlyReview.status != "draft", Contract.county_id.in_(county_ids))).scalar_one()
    return Quarter.parse(newest) if newest else None


def county_counts(county_ids: list[int], quarter: Quarter | None, today: date) -> dict[int, CountyCounts]:
    """Each county's counts (`CountyCounts`), five grouped statements in all."""
    found: dict[int, dict[str, int]] = {county_id: {} for county_id in county_ids}
    county = Contract.county_id
    in_scope = county.in_(county_ids)

    def grouped(stmt, *names):
        for county_id, *values in db.session.execute(stmt.where(in_scope).group_by(county)):
            found[county_id].update(zip(names, values))

    grouped(select(county, func.count()).where(Contract.term_start <= today, Contract.term_end >= today),
            "contracts")
    if quarter is not None:
        reviews = current_reviews_query(published_only=True).where(QuarterlyReview.quarter == str(quarter)).subquery()
        grouped(select(county, func.count(), func.count().filter(reviews.c.total_centi < BELOW_CENTI))
                .select_from(reviews).join(Contract, reviews.c.contract_id == Contract.id),
                "reviewed_contracts", "below_80")
        grouped(select(county, func.count(), func.count().filter(SpotCheck.passed))
                .select_from(SpotCheck).join(DrawItem, SpotCheck.draw_item_id == DrawItem.id)
                .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
                .join(Contract, SpotCheck.contract_id == Contract.id)
                .where(SamplingDraw.quarter == str(quarter)),
                "checks", "checks_passed")
    grouped(select(county, func.count()).select_from(RectificationNotice)
            .join(Contract, RectificationNotice.contract_id == Contract.id).where(overdue_notice_condition(today)),
            "overdue_notices")
    received = literal(0) if quarter is None else func.count().filter(
        (Complaint.created_at >= day_starts_at(quarter.start))
        & (Complaint.created_at < day_starts_at(quarter.end + timedelta(days=1))))
    grouped(select(county, func.count().filter(Complaint.status != "closed"), received)
            .select_from(Complaint).join(Contract, Complaint.contract_id == Contract.id),
            "open_complaints", "complaints_in_quarter")
    return {county_id: CountyCounts(**values) for county_id, values in found.items()}


def city_dashboard(area: Area, today: date) -> CityDashboard:
    """The figures of the counties below `area` (a city or a province)."""
    counties = counties_below(area)
    ids = [county.id for county in counties]
    quarter = last_reviewed_quarter(ids) if ids else None
    counts = county_counts(ids, quarter, today) if ids else {}
    figures = city_figures([(county.id, county.code, county.name) for county in counties], counts)
    parents = {county.parent_id for county in counties}
    names = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(parents))).all()) if parents else {}
    return CityDashboard(area, quarter, figures, {county.id: names.get(county.parent_id, "") for county in counties})
