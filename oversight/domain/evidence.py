"""Independent evidence against the records (issue 10, point 9): which contradictions to flag.

Matching is by ID number only. Oversight knows a household by its applicant's (户主's) ID number
(the subject's `id_number`); a 核对平台 row belongs to the household of its 申请人身份证号, or
to the person's own household when that is blank, and the rows of one household are added up.
A household survey is compared with its household's figures when the survey's date lies within
`window_days` of the household's latest 核对日期 (the two describe the same twelve months):

- 上报收入低于核对数据: the survey's 家庭年收入 is below the data's 年收入 by more than the
  tolerance;
- 上报金融资产低于核对存款: its 家庭金融资产 is below the data's 存款 by more than the tolerance
  (deposits are part of financial assets, so assets may exceed deposits, never fall short);
- 上报房产 / 机动车少于核对数据: fewer than the data counts (a blank count reads as 0);
- 有工商登记但未申报经营收入: the data shows a business registration, the survey no 经营净收入;
- 家庭成员户籍或所属家庭在别处: a member's 户籍乡镇 is not the household's township, or the
  applicant is listed in the data as a member of another applicant's household.

The tolerance is the larger of `percent` % of the data's figure and `floor_fen` (both settings),
so that rounding and a month's timing never raise a flag.

A death record flags every record of the person (or of the household whose applicant died)
dated after the death: 死亡日期后仍有服务记录.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .identifiers import mask_id_number
from .money import format_yuan
from .vocabulary import EvidenceFlagKind, ServiceType

Kind = EvidenceFlagKind


@dataclass(frozen=True)
class Tolerance:
    """How far below the data a reported amount may fall: max(percent % of the data, floor_fen)."""

    percent: int = 10
    floor_fen: int = 50_000

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100 or self.floor_fen < 0:
            raise ValueError("核对容差应为 0–100 % 与不小于 0 的金额")

    def of(self, evidence_fen: int) -> int:
        """The allowed shortfall, in fen, against a figure of the data."""
        return max(evidence_fen * self.percent // 100, self.floor_fen)


@dataclass(frozen=True)
class EconomicRow:
    """One person's 核对平台 result (None: the file left the figure blank)."""

    id_number: str
    name: str
    checked_on: dt.date
    applicant_id_number: str | None = None
    township: str | None = None
    vehicles: int | None = None
    properties: int | None = None
    businesses: int | None = None
    deposits_fen: int | None = None
    income_fen: int | None = None

    @property
    def household(self) -> str:
        """The ID number of the applicant whose household this person belongs to."""
        return self.applicant_id_number or self.id_number


@dataclass(frozen=True)
class Survey:
    """A stored household survey and its household (subject)."""

    record_id: int
    subject_id: int
    id_number: str  # the household's applicant
    township: str
    service_date: dt.date
    annual_income_fen: int | None = None
    financial_assets_fen: int | None = None
    property_count: int | None = None
    vehicle_count: int | None = None
    business_income_fen: int | None = None


@dataclass(frozen=True)
class DeathRow:
    id_number: str
    name: str
    died_on: dt.date
    source: str | None = None


@dataclass(frozen=True)
class Service:
    """A stored record of any service, with its subject's ID number."""

    record_id: int
    subject_id: int
    id_number: str
    service_type: str
    service_date: dt.date


@dataclass(frozen=True)
class Finding:
    """A contradiction to flag on one record."""

    kind: str
    record_id: int
    subject_id: int
    reason: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Household:
    """The data's figures of one household, added up over its members' rows."""

    applicant: str
    members: tuple[EconomicRow, ...]

    @property
    def checked_on(self) -> dt.date:
        return max(member.checked_on for member in self.members)

    def total(self, key: str) -> int | None:
        """The members' sum of a figure; None when no member's row gives it."""
        values = [getattr(member, key) for member in self.members if getattr(member, key) is not None]
        return sum(values) if values else None

    def describe(self) -> str:
        members = f"{len(self.members)} 名家庭成员合计，" if len(self.members) > 1 else ""
        return f"{members}核对日期 {self.checked_on.isoformat()}"


def households(rows: Iterable[EconomicRow]) -> dict[str, Household]:
    """The rows grouped by applicant ID number, members in file order."""
    grouped: dict[str, list[EconomicRow]] = defaultdict(list)
    for row in rows:
        grouped[row.household].append(row)
    return {applicant: Household(applicant, tuple(members)) for applicant, members in grouped.items()}


def economic_findings(rows: Sequence[EconomicRow], surveys: Sequence[Survey], tolerance: Tolerance,
                      window_days: int) -> list[Finding]:
    """The contradictions between the 核对平台 rows and the household surveys they match."""
    by_household = households(rows)
    listed_elsewhere = {row.id_number: row for row in rows if row.applicant_id_number}
    findings: list[Finding] = []
    for survey in sorted(surveys, key=lambda s: s.record_id):
        household = by_household.get(survey.id_number)
        if household is not None and abs((survey.service_date - household.checked_on).days) <= window_days:
            findings.extend(_amount_findings(survey, household, tolerance))
            findings.extend(_count_findings(survey, household))
            findings.extend(_business_findings(survey, household))
        findings.extend(_elsewhere_findings(survey, household, listed_elsewhere.get(survey.id_number), window_days))
    return findings


def matched_rows(rows: Sequence[EconomicRow], surveys: Sequence[Survey]) -> int:
    """How many rows belong to (or name) a household that has a survey."""
    surveyed = {survey.id_number for survey in surveys}
    return sum(row.household in surveyed or row.id_number in surveyed for row in rows)


def _amount_findings(survey: Survey, household: Household, tolerance: Tolerance) -> Iterable[Finding]:
    for kind, evidence_key, reported, what, evidence_what in (
            (Kind.INCOME_UNDERREPORTED, "income_fen", survey.annual_income_fen, "家庭年收入", "年收入"),
            (Kind.ASSETS_UNDERREPORTED, "deposits_fen", survey.financial_assets_fen, "家庭金融资产", "存款")):
        evidence = household.total(evidence_key)
        if evidence is None or reported is None:
            continue
        allowed = tolerance.of(evidence)
        shortfall = evidence - reported
        if shortfall > allowed:
            yield Finding(kind, survey.record_id, survey.subject_id,
                          f"调查上报{what} {format_yuan(reported)} 元；核对平台显示{evidence_what} "
                          f"{format_yuan(evidence)} 元（{household.describe()}），少报 {format_yuan(shortfall)} 元，"
                          f"超过允许误差 {format_yuan(allowed)} 元",
                          {"reported_fen": reported, "evidence_fen": evidence, "tolerance_fen": allowed,
                           "checked_on": household.checked_on.isoformat(), "members": len(household.members)})


def _count_findings(survey: Survey, household: Household) -> Iterable[Finding]:
    for kind, evidence_key, reported, what, unit in (
            (Kind.PROPERTY_UNDERREPORTED, "properties", survey.property_count, "房产", "套"),
            (Kind.VEHICLES_UNDERREPORTED, "vehicles", survey.vehicle_count, "机动车", "辆")):
        evidence = household.total(evidence_key)
        if evidence is None or evidence <= (reported or 0):
            continue
        said = f"调查上报{what} {reported} {unit}" if reported is not None else f"调查未填写{what}数量（按 0 计）"
        yield Finding(kind, survey.record_id, survey.subject_id,
                      f"{said}；核对平台显示 {evidence} {unit}（{household.describe()}）",
                      {"reported": reported, "evidence": evidence, "checked_on": household.checked_on.isoformat()})


def _business_findings(survey: Survey, household: Household) -> Iterable[Finding]:
    businesses = household.total("businesses")
    if businesses and not survey.business_income_fen:
        said = "经营净收入为 0" if survey.business_income_fen == 0 else "未申报经营净收入"
        yield Finding(Kind.BUSINESS_UNREPORTED, survey.record_id, survey.subject_id,
                      f"核对平台显示工商登记 {businesses} 户（{household.describe()}）；调查{said}",
                      {"evidence": businesses, "reported_fen": survey.business_income_fen,
                       "checked_on": household.checked_on.isoformat()})


def _elsewhere_findings(survey: Survey, household: Household | None, own_row: EconomicRow | None,
                        window_days: int) -> Iterable[Finding]:
    def recent(row: EconomicRow) -> bool:
        return abs((survey.service_date - row.checked_on).days) <= window_days

    places = []
    for member in (household.members if household else ()):
        if member.township and member.township != survey.township and recent(member):
            places.append(f"{member.name}（{mask_id_number(member.id_number)}）户籍登记在{member.township}")
    if own_row is not None and recent(own_row):
        places.append(f"户主{own_row.name}在核对数据中属于另一申请家庭"
                      f"（申请人 {mask_id_number(own_row.applicant_id_number)}）")
    if places:
        yield Finding(Kind.REGISTERED_ELSEWHERE, survey.record_id, survey.subject_id,
                      f"{'；'.join(places)}；被调查家庭登记在{survey.township}",
                      {"township": survey.township, "places": len(places)})


def death_findings(deaths: Sequence[DeathRow], services: Sequence[Service]) -> list[Finding]:
    """Every record dated after its person's (or household applicant's) recorded death."""
    died = {row.id_number: row for row in deaths}
    findings = []
    for service in sorted(services, key=lambda s: s.record_id):
        death = died.get(service.id_number)
        if death is None or service.service_date <= death.died_on:
            continue
        source = f"，数据来源：{death.source}" if death.source else ""
        whose = "户主" if service.service_type == ServiceType.HOUSEHOLD_SURVEY else "服务对象"
        findings.append(Finding(
            Kind.SERVICE_AFTER_DEATH, service.record_id, service.subject_id,
            f"{ServiceType(service.service_type).label}记录的服务日期 {service.service_date.isoformat()} "
            f"晚于{whose}{death.name}的死亡日期 {death.died_on.isoformat()}（死亡登记{source}）",
            {"died_on": death.died_on.isoformat(), "service_date": service.service_date.isoformat()}))
    return findings
