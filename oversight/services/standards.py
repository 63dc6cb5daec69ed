"""Local standards kept by the admin (SPEC section 8): dated versions, the one in force on a
day, a new version from the page or a sheet.

Every rule that needs a standard asks here with the day in question (a draw's drawing day, a
record's service day, the day of the event a due date counts from), never reading the year's
row directly: the row (`LocalStandard`) carries the year's newest version, the versions say
from when each held.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..domain.local_standards import (
    Draft,
    MonthAllowance,
    PovertyLine,
    StandardTerms,
    differences,
    month_ends,
    monthly_allowances,
    parse_sheet,
    version_in_force,
)
from ..domain.self_care import TIER_BY_CONCLUSION
from ..domain.vocabulary import ServiceType, SubjectCategory, SubjectKind
from ..domain.working_days import HolidayCalendar
from ..extensions import db
from ..models import Area, Assignment, CompletionRecord, Contract, LocalStandard, LocalStandardVersion, Subject, User

DEFAULT_COUNTY = "本县"


def standard_of_year(county_id: int, year: int) -> LocalStandard | None:
    """The county's standard row of a year, if its admin set one."""
    return db.session.execute(select(LocalStandard).where(
        LocalStandard.county_id == county_id, LocalStandard.year == year)).scalar_one_or_none()


def versions_of(standard: LocalStandard) -> list[LocalStandardVersion]:
    """The year's versions, first first."""
    return list(db.session.execute(select(LocalStandardVersion).where(
        LocalStandardVersion.standard_id == standard.id).order_by(LocalStandardVersion.number)).scalars())


def version_on(county_id: int, day: date) -> LocalStandardVersion | None:
    """The county's version in force on `day`: the latest taking effect by then, of its year or,
    before the year's first, of an earlier one."""
    return db.session.execute(
        select(LocalStandardVersion).join(LocalStandard, LocalStandardVersion.standard_id == LocalStandard.id)
        .where(LocalStandard.county_id == county_id, LocalStandardVersion.effective_from <= day,
               LocalStandard.year <= day.year)
        .order_by(LocalStandardVersion.effective_from.desc(), LocalStandardVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


def terms_on(county_id: int, day: date) -> StandardTerms | None:
    """The county's terms in force on `day`; a year's row without versions (stored directly)
    counts as in force from its 1 January; None when no standard reaches back to `day`."""
    version = version_on(county_id, day)
    if version is not None:
        return StandardTerms.of(version)
    row = db.session.execute(select(LocalStandard).where(LocalStandard.county_id == county_id,
                                                         LocalStandard.year <= day.year)
                             .order_by(LocalStandard.year.desc()).limit(1)).scalar_one_or_none()
    return StandardTerms.of(row) if row is not None else None


def year_calendar(county_id: int, year: int, on: date) -> HolidayCalendar:
    """The county's holidays and 调休 days of `year` as known on `on`: the year's version in force
    then (or, before its first takes effect, its first), else the year's row."""
    standard = standard_of_year(county_id, year)
    if standard is None:
        return HolidayCalendar()
    versions = versions_of(standard)
    if not versions:
        return HolidayCalendar.of(standard.holidays or (), standard.working_days or ())
    version = version_in_force(versions, max(on, date(year, 1, 1))) or versions[0]
    return HolidayCalendar.of(version.holidays or (), version.working_days or ())


@dataclass(frozen=True)
class VersionView:
    """A stored version with what changed against the one before it (for the history)."""

    version: LocalStandardVersion
    terms: StandardTerms
    changes: list


def history(standard: LocalStandard) -> list[VersionView]:
    """The year's versions, newest first, each with its differences to the previous."""
    views: list[VersionView] = []
    previous = None
    for version in versions_of(standard):
        terms = StandardTerms.of(version)
        views.append(VersionView(version, terms, differences(previous, terms)))
        previous = terms
    return list(reversed(views))


def latest_terms(county_id: int, year: int) -> StandardTerms | None:
    """The county's newest version of the year (what a blank field of the next version keeps)."""
    standard = standard_of_year(county_id, year)
    if standard is None:
        return None
    versions = versions_of(standard)
    return StandardTerms.of(versions[-1]) if versions else StandardTerms.of(standard)


def add_version(county_id: int, draft: Draft, user: User | None) -> LocalStandardVersion:
    """Store `draft` as the county's next version of its year (the year's row made if new, and
    set to the newest version's values); the caller commits. The audit listener logs both writes."""
    standard = standard_of_year(county_id, draft.year)
    columns = draft.terms.as_columns()
    if standard is None:
        standard = LocalStandard(county_id=county_id, year=draft.year, county=_county_name(county_id), **columns)
        db.session.add(standard)
        db.session.flush()
        number = 1
    else:
        number = len(versions_of(standard)) + 1
        for key, value in columns.items():
            setattr(standard, key, value)
    version = LocalStandardVersion(standard_id=standard.id, number=number, effective_from=draft.effective_from,
                                   reason=draft.reason, created_by_id=user.id if user else None, **columns)
    db.session.add(version)
    db.session.flush()
    return version


def import_sheet(county_id: int, headers: Sequence[str], rows, user: User | None) -> list[LocalStandardVersion]:
    """Every row of a standards sheet as a new version of the county's, all or none
    (SheetRejected names the row, column and reason); the caller commits."""
    years = {str(cells.get("年度", "")).strip() for _, cells in rows}
    previous = {int(year): terms for year in years if year.isdigit()
                for terms in [latest_terms(county_id, int(year))] if terms is not None}
    drafts = parse_sheet(headers, rows, previous)
    return [add_version(county_id, draft, user) for draft in drafts]


def years_kept(county_id: int) -> list[int]:
    """Every year the county has a standard for, newest first."""
    return list(db.session.execute(select(LocalStandard.year).where(LocalStandard.county_id == county_id)
                                   .order_by(LocalStandard.year.desc())).scalars())


def _county_name(county_id: int) -> str:
    area = db.session.get(Area, county_id)
    return area.name if area is not None else DEFAULT_COUNTY


def poverty_lines(county_id: int) -> tuple[PovertyLine, ...]:
    """The county's 低保标准 by the day each takes effect (the last version of a day only), a
    year's row without versions counting from its 1 January: what a record's service day is held to."""
    by_day: dict[date, PovertyLine] = {}
    rows = db.session.execute(
        select(LocalStandardVersion.effective_from, LocalStandardVersion.poverty_line_fen,
               LocalStandardVersion.poverty_line_rural_fen)
        .join(LocalStandard, LocalStandardVersion.standard_id == LocalStandard.id)
        .where(LocalStandard.county_id == county_id)
        .order_by(LocalStandardVersion.effective_from, LocalStandardVersion.number)).all()
    for day, urban, rural in rows:
        by_day[day] = PovertyLine(day, urban, rural)
    unversioned = db.session.execute(
        select(LocalStandard.year, LocalStandard.poverty_line_fen, LocalStandard.poverty_line_rural_fen)
        .where(LocalStandard.county_id == county_id,
               ~select(LocalStandardVersion.id).where(LocalStandardVersion.standard_id == LocalStandard.id).exists())
    ).all()
    for year, urban, rural in unversioned:
        by_day.setdefault(date(year, 1, 1), PovertyLine(date(year, 1, 1), urban, rural if rural is not None else urban))
    return tuple(by_day[day] for day in sorted(by_day))


# --- the care allowance of a tier -------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """A care tier and its monthly allowance by the standard in force on a day."""

    tier: str
    allowance_fen: int | None
    on: date


def allowance_for(county_id: int, conclusion: str | None, day: date, cache: dict | None = None) -> Allowance | None:
    """The tier a 评估结论 puts the person in and its monthly allowance on `day` by the county's
    standard (None without a conclusion); `cache` spares a table the same query for every row."""
    tier = TIER_BY_CONCLUSION.get(conclusion or "")
    if tier is None:
        return None
    if cache is not None:
        if (county_id, day) not in cache:
            cache[county_id, day] = terms_on(county_id, day)
        terms = cache[county_id, day]
    else:
        terms = terms_on(county_id, day)
    return Allowance(tier, terms.allowance_for_tier(tier) if terms else None, day)


def assessments_of(subject_ids=None, until: date | None = None,
                   county_id: int | None = None) -> dict[int, list[tuple[date, str]]]:
    """Each person's self-care assessments (service day, 评估结论) in date order; `county_id`
    reads them through that county's contracts' assessment records (the index on contract and
    service type), not through every assignment of its people (ten years of monthly care visits)."""
    stmt = (select(Assignment.subject_id, CompletionRecord.service_date, CompletionRecord.conclusion)
            .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
            .where(CompletionRecord.service_type == ServiceType.SELF_CARE_ASSESSMENT,
                   CompletionRecord.conclusion.is_not(None))
            .order_by(CompletionRecord.service_date, CompletionRecord.id))
    if county_id is not None:
        stmt = stmt.where(CompletionRecord.contract_id.in_(select(Contract.id).where(Contract.county_id == county_id)))
    if subject_ids is not None:
        stmt = stmt.where(Assignment.subject_id.in_(subject_ids))
    if until is not None:
        stmt = stmt.where(CompletionRecord.service_date <= until)
    found: dict[int, list[tuple[date, str]]] = {}
    for subject_id, day, conclusion in db.session.execute(stmt):
        found.setdefault(subject_id, []).append((day, conclusion))
    return found


def current_allowance(subject: Subject, today: date) -> Allowance | None:
    """A person's tier by the latest assessment up to `today` and its allowance today."""
    assessments = assessments_of([subject.id], today).get(subject.id, [])
    return allowance_for(subject.county_id, assessments[-1][1], today) if assessments else None


@dataclass(frozen=True)
class FinanceRow:
    """One special-hardship person's year: tier and allowance per month, and the year's total."""

    subject: Subject
    months: list[MonthAllowance]

    @property
    def total_fen(self) -> int:
        return sum(month.allowance_fen or 0 for month in self.months)


def finance_rows(county_id: int, year: int) -> list[FinanceRow]:
    """Every 特困 person of the county, by township, village and name, with the year's months
    (SPEC 7, 8)."""
    people_of = select(Subject).where(Subject.county_id == county_id, Subject.kind == SubjectKind.PERSON,
                                      Subject.category == SubjectCategory.EXTREME_POVERTY)
    people = list(db.session.execute(
        people_of.order_by(Subject.township, Subject.village, Subject.name, Subject.id)).scalars())
    ends = month_ends(year)
    terms_at = {end: terms_on(county_id, end) for end in ends}
    # Every assessment of the county's contracts; the rows read off its 特困 people's.
    assessments = assessments_of(None, ends[-1], county_id)
    return [FinanceRow(person, monthly_allowances(assessments.get(person.id, []), year, terms_at)) for person in people]
