"""Demo data: a realistic, deterministic county modelled on 赣州市赣县区, or the city of 赣州市
with three of its counties (`flask seed-demo --scale city`)."""
from __future__ import annotations

import json
import random
import time as clock
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta

import click
from flask import Flask
from sqlalchemy import func, insert, inspect, select, text

from oversight.clock import county_today, replayed_at
from oversight.domain.areas import level_of
from oversight.domain.vocabulary import (AnchorReason, AssignmentStatus, CallbackStatus, NoticeStatus, ReviewStatus, Role, ServiceType,
                                         SubjectKind, label_of)
from oversight.domain.local_standards import Draft, StandardTerms
from oversight.extensions import db
from oversight.models import (
    AnnualEvaluation,
    Area,
    Assignment,
    Callback,
    Complaint,
    CompletionRecord,
    Contract,
    Contractor,
    EvidenceFlag,
    FieldWorker,
    LocalStandard,
    QuarterlyReview,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
    Subject,
    UploadBatch,
    User,
    VerificationImport,
)
from oversight.models.contract import DEFAULT_SAMPLING_RULE
from oversight.services.accounts import create_user
from oversight.services.audit import Actor, append_only_lifted, record_event, reset_actor, set_actor
from oversight.services import acceptances, installments
from oversight.services.audit_anchors import anchor_audit_log
from oversight.services.areas import ensure_area, home_county
from oversight.services.registry import save_contract, save_contractor, save_worker
from oversight.services.standards import add_version

from .activity import Activity, Party
from .counties import CITY, CITY_MAIL_DOMAIN, CITY_STAFF, COUNTIES, GANXIAN, ContractorSpec, CountyPlan
from .identities import People, Weighted
from .procurement import add_draft, add_procurement
from .reassessment import add_condition_reports
from .records import ContractLogs
from .reference import COUNTY, public_holidays, public_working_days, villages_of
from .schedule import ONE_DAY, Schedule, WorkCalendar, month_windows, shift_month

DEFAULT_SEED = 20240401
_RURAL_LINE_BELOW_URBAN_FEN = 16_000  # 赣州's rural 低保标准 runs about 160 yuan below the urban one
SURVEY_SHARE = 0.4  # households surveyed per year, of all registered
CARE_VISITS_PER_MONTH = 2


class DemoError(Exception):
    """Seeding refused; the message is Chinese, for the user."""


@dataclass(frozen=True)
class ScaleSpec:
    """What one scale builds. A city scale (`counties` 3) builds every county of `seeds.counties`,
    each with its share of the households and persons and all its townships (up to `townships`)."""

    households: int
    persons: int
    townships: int
    contractors: int
    workers: tuple[int, int]
    counties: int = 1

    def for_county(self, plan: CountyPlan) -> ScaleSpec:
        """The spec of one county of the scale."""
        if self.counties == 1:
            return self
        return ScaleSpec(round(self.households * plan.city_share), round(self.persons * plan.city_share),
                         min(self.townships, len(plan.townships)), self.contractors, self.workers)


SCALES = {
    "small": ScaleSpec(households=60, persons=20, townships=5, contractors=2, workers=(6, 6)),
    "county": ScaleSpec(households=3000, persons=400, townships=20, contractors=3, workers=(8, 15)),
    # Three counties, 30,000 households and 4,000 persons in all: the bench database's base.
    "city": ScaleSpec(households=30000, persons=4000, townships=99, contractors=3, workers=(20, 30), counties=3),
    # The city's three counties at the small scale (tests).
    "small-city": ScaleSpec(households=180, persons=60, townships=5, contractors=2, workers=(6, 6), counties=3),
}

# 赣县区's, the county demo's (bench/history.py reads them).
CONTRACTORS = GANXIAN.contractors

# (username, role, display name); each password is "demo-" + username, each e-mail address
# `demo_email`'s (reserved example.cn domains: nothing is delivered anywhere real).
STAFF = GANXIAN.staff

BUREAU_MAIL_DOMAIN = GANXIAN.mail_domain


def demo_email(username: str, contractor: bool, domain: str = BUREAU_MAIL_DOMAIN) -> str:
    """A demo user's plausible address: the bureau's domain for its staff, the contractor's own
    (`tongxin@tongxin-sg.example.cn`) for a contractor's log-in."""
    return f"{username}@{username}-sg.example.cn" if contractor else f"{username}@{domain}"


def plans_of(scale: str) -> tuple[CountyPlan, ...]:
    """The counties a scale builds, in building order."""
    return COUNTIES[:SCALES[scale].counties]


_HOUSEHOLD_CATEGORIES = Weighted((("低保", 65), ("低保边缘", 20), ("支出型困难", 15)))
_HOUSEHOLD_SIZES = {
    "低保": Weighted(((1, 30), (2, 25), (3, 20), (4, 15), (5, 7), (6, 3))),
    "低保边缘": Weighted(((2, 20), (3, 30), (4, 28), (5, 15), (6, 7))),
    "支出型困难": Weighted(((2, 15), (3, 30), (4, 30), (5, 17), (6, 8))),
}
# 特困: mostly elderly, some adults with disabilities, a few minors without carers.
_PERSON_AGES = Weighted((((60, 98, 78), 82), ((18, 59, 48), 15), ((6, 15, 11), 3)))
_HOUSEHOLD_CANCEL = ("家庭已退出低保", "对象户籍迁出本区", "重复派发，已撤销")
_PERSON_CANCEL = ("重复派发，已撤销", "对象入住敬老院，转集中供养", "对象信息有误，撤销重派")


@dataclass(frozen=True)
class ContractSummary:
    code: str
    title: str
    contractor: str
    service_types: tuple[str, ...]
    term_start: date
    term_end: date
    amount_fen: int


@dataclass(frozen=True)
class UserSummary:
    username: str
    password: str
    role: str
    contractor: str | None
    email: str | None = None
    area: str | None = None  # the county (or, for the city's staff, the city) the user is scoped to


@dataclass(frozen=True)
class DemoSummary:
    """What was built: the contracts, the log-ins and row counts."""

    scale: str
    seed: int
    today: date
    contracts: tuple[ContractSummary, ...]
    users: tuple[UserSummary, ...]
    counts: dict[str, int] = field(default_factory=dict)
    counties: tuple[str, ...] = (COUNTY,)

    def to_json(self) -> dict:
        """The `--json` output: contracts and log-ins only."""
        return {
            "contracts": [{"code": c.code, "contractor": c.contractor, "service_types": list(c.service_types)}
                          for c in self.contracts],
            "users": [asdict(user) for user in self.users],
        }


def build_demo(scale: str, seed: int, today: date, *, reset: bool = False) -> DemoSummary:
    """Seed the demo county into the current app's database and commit; `reset` empties it first."""
    if scale not in SCALES:
        raise DemoError(f"未知规模 {scale}，可选：{'、'.join(SCALES)}")
    if not inspect(db.engine).has_table(Contract.__tablename__):
        raise DemoError("数据库尚未建表，请先运行 flask --app app init-db")
    token = set_actor(Actor(None, "seed-demo"))
    try:
        if reset:
            record_event("reset", "Database", None, {"deleted": empty_database()})
        refuse_unless_empty(scale)
        summary = _build(scale, seed, today)
        db.session.commit()
        if reset:  # the emptied chain is a new one: anchor it as a new epoch
            anchor_audit_log(AnchorReason.RESET)
        return summary
    except BaseException:
        db.session.rollback()
        raise
    finally:
        reset_actor(token)


def empty_database() -> dict[str, int]:
    """Delete every row of every application table (schema and migration version stay); rows per table."""
    present = set(inspect(db.session.connection()).get_table_names())
    tables = _referencing_first([table for table in db.metadata.sorted_tables if table.name in present])
    counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
              for table in tables}
    with append_only_lifted(db.session.connection()):  # the audit log goes too: README, Audit log
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
    # Loaded objects would otherwise clash with the new rows that reuse their ids.
    db.session.expunge_all()
    return counts


def _referencing_first(tables) -> list:
    """Tables ordered so that each comes before those it references (use_alter keys included)."""
    remaining = list(tables)
    ordered = []
    while remaining:
        referenced = {fk.column.table.name for table in remaining for fk in table.foreign_keys
                      if fk.column.table is not table}
        free = [table for table in remaining if table.name not in referenced] or remaining[:1]
        ordered.extend(free)
        remaining = [table for table in remaining if table not in free]
    return ordered


def _build(scale: str, seed: int, today: date) -> DemoSummary:
    """Each county of the scale in turn (its areas, standards, registers, a year of activity), then,
    for a city, the city bureau's log-ins; one summary of all."""
    spec = SCALES[scale]
    plans = plans_of(scale)
    record_event("seed", "Demo", None, {"scale": scale, "seed": seed, "today": today,
                                        "counties": [plan.code for plan in plans]})
    areas = add_areas(plans)
    builders: list[_Builder] = []
    for plan in plans:
        builder = _Builder(spec.for_county(plan), scale, seed, today, plan, areas[plan.code],
                           taken=builders[0].people if builders else None)
        builder.build()
        builders.append(builder)
    contracts = tuple(summary for builder in builders for summary in builder.contract_summaries)
    users = [summary for builder in builders for summary in builder.user_summaries]
    if spec.counties > 1:
        users += _add_city_staff(ensure_area(*CITY))
    return DemoSummary(scale, seed, today, contracts, tuple(users), row_counts(),
                       tuple(plan.name for plan in plans))


def add_areas(plans: tuple[CountyPlan, ...]) -> dict[str, Area]:
    """Each plan's county with the areas above it, and its townships (the reference data an admin
    would load from a file); areas already present are kept. By the plan's code.

    The one-county demo goes in the install's county (`home_county`, COUNTY_CODE), whatever its
    code; its townships are added when that is the plan's county."""
    counties = {}
    for plan in plans:
        county = home_county() if len(plans) == 1 else ensure_area(plan.code, plan.name)
        counties[plan.code] = county
        if county.code != plan.code:
            continue
        present = set(db.session.execute(select(Area.code).where(Area.parent_id == county.id)).scalars())
        for name, _, _ in plan.townships:
            code = plan.township_code(name)
            if code not in present:
                db.session.add(Area(code=code, name=name, level=level_of(code), parent_id=county.id))
    db.session.flush()
    return counties


def _add_city_staff(city: Area) -> list[UserSummary]:
    """The city bureau's log-ins, scoped to the city (they see its counties)."""
    made = []
    for username, role, display_name in CITY_STAFF:
        password = f"demo-{username}"
        user = create_user(username, password, role, display_name, None, area_id=city.id)
        user.email = demo_email(username, False, CITY_MAIL_DOMAIN)
        made.append(UserSummary(username, password, role, None, user.email, CITY[1]))
    db.session.flush()
    return made


def refuse_unless_empty(scale: str = "county") -> None:
    """Raise DemoError when the database already holds contracts, contractors, subjects or demo log-ins."""
    for model, label in ((Contract, "合同"), (Contractor, "承接机构"), (Subject, "服务对象"), (Assignment, "任务")):
        if db.session.execute(select(model.id).limit(1)).first():
            raise DemoError(f"数据库中已有{label}数据，未生成演示数据。"
                            "如确要清空重建，请加 --reset（删除全部数据，包括用户和审计日志）。")
    plans = plans_of(scale)
    usernames = [username for plan in plans for username, _, _ in plan.staff]
    usernames += [spec.login for plan in plans for spec in plan.contractors]
    if SCALES[scale].counties > 1:
        usernames += [username for username, _, _ in CITY_STAFF]
    taken = db.session.execute(select(User.username).where(User.username.in_(usernames))).scalars().all()
    if taken:
        raise DemoError(f"用户名已存在：{'、'.join(sorted(taken))}。请加 --reset 清空后重建。")


_CARE_METHODS = ("竞争性磋商", "竞争性谈判")
_CARE_SAMPLING_RULES = ({"kind": "iso2859", "aql": "2.5"},
                        {"kind": "hypergeometric", "limiting_quality": "0.10", "consumer_risk": "0.10"})


@dataclass(frozen=True)
class _ContractPlan:
    """A contract to be signed: who, how procured, from when, where, what and for how much."""

    owner: tuple[ContractorSpec, Contractor]
    method: str
    start: date
    townships: frozenset[str]
    lot_number: int | None
    lines: dict[str, tuple[int, int]]
    sampling_rule: dict
    amount_yuan: int
    county: str = COUNTY

    @property
    def end(self) -> date:
        return shift_month(self.start, 12) - ONE_DAY

    @property
    def title(self) -> str:
        years = (f"{self.start.year}年度" if self.start.year == self.end.year
                 else f"{self.start.year}—{self.end.year}年度")
        what = "低收入家庭家计调查" if "household_survey" in self.lines else "特困人员自理能力评估及照料护理"
        return f"{self.county}{years}{what}服务项目" + (f"（{self.lot_number}标段）" if self.lot_number else "")


class _Builder:
    """One county's seeding; every random draw comes from Random streams derived from the seed
    (and, but for 赣县区, the county's code: 赣县区 in a city is the county demo's 赣县区)."""

    def __init__(self, spec: ScaleSpec, scale: str, seed: int | str, today: date, plan: CountyPlan = GANXIAN,
                 area: Area | None = None, *, taken: People | None = None):
        self.spec, self.scale, self.seed, self.today = spec, scale, seed, today
        self.plan, self.area = plan, area
        self.townships = plan.townships[:spec.townships]
        self.places = Weighted((name, weight) for name, weight, _ in self.townships)
        self.villages = {name: villages_of(name, plan.seat_communities if name == plan.seat else ())
                         for name, _, _ in self.townships}
        self.people = People(self._rng("people"), plan.id_codes, taken=taken)
        # The staff's log-ins by their part in the replay (Activity's "admin", "supervisor", …).
        self.staff = dict(zip(("admin", "supervisor", "supervisor2", "auditor"), plan.staff))
        self.schedule = Schedule(self._rng("assignments"), today)
        # Terms start at most ten months back and run a year, so three calendar years cover them.
        self.calendar = WorkCalendar(range(today.year - 1, today.year + 2))
        self.contract_summaries: list[ContractSummary] = []
        self.user_summaries: list[UserSummary] = []

    def _rng(self, part: str) -> random.Random:
        # One stream per part, so that e.g. a change to the schedule leaves the subjects as they were.
        if self.plan is GANXIAN:
            return random.Random(f"{self.seed}:{part}")
        return random.Random(f"{self.seed}:{self.plan.code}:{part}")

    def build(self) -> None:
        """The county: standards, registers, contracts, a year of activity, log-ins (summaries kept)."""
        self.county = self.area
        record_event("seed", "Area", self.county.id, {"county": self.county.name})
        self._add_standards()
        self.schedule.continue_after(db.session.execute(select(Assignment.number)).scalars())
        contractors = self._add_contractors()
        households, persons = self._add_subjects()
        contracts = self._add_contracts(contractors, households, persons)
        self._add_assignments(contracts, households, persons)
        users = self._add_users(contractors)
        self._add_activity(contracts, users)
        supervisor = users[self.staff["supervisor"][0]]
        prefix = self.plan.contract_prefix.removesuffix("MZ") + "ZC"
        add_procurement(contracts[0][0], [contractor for _, contractor in contractors], supervisor,
                        self.today, self._rng("procurement"), prefix)
        add_draft(contracts[-1][0], supervisor, prefix)
        self._add_payment_schedules(contracts, users)
        self._add_field_workers(contractors)
        add_condition_reports(contracts[-1][0], supervisor, self.today)

    def _add_standards(self) -> None:
        """Two years back to this one, each a version from 1 January with the year's holidays and
        调休 days; this year's 低保标准 raised by a second version from 1 July (the usual mid-year
        adjustment), so that the standards page shows a history."""
        existing = set(db.session.execute(select(LocalStandard.year).where(
            LocalStandard.county_id == self.county.id)).scalars())
        figures = self.plan.standards
        for year, raise_steps in ((self.today.year - 2, -1), (self.today.year - 1, 0), (self.today.year, 1)):
            if year in existing:
                continue  # an admin's figures win over the demo's
            poverty_line = figures.poverty_line + figures.poverty_step * raise_steps
            terms = StandardTerms(
                poverty_line_fen=poverty_line, poverty_line_rural_fen=poverty_line - _RURAL_LINE_BELOW_URBAN_FEN,
                care_allowance_tier1_fen=figures.care_tiers[0] + figures.care_steps[0] * raise_steps,
                care_allowance_tier2_fen=figures.care_tiers[1] + figures.care_steps[1] * raise_steps,
                care_allowance_tier3_fen=figures.care_tiers[2] + figures.care_steps[2] * raise_steps,
                holidays=tuple(public_holidays(year)), working_days=tuple(public_working_days(year)))
            add_version(self.county.id, Draft(year, date(year, 1, 1), f"{year}年城乡低保、特困人员照料护理补贴及抽查回访标准",
                                              terms), None)
            if year == self.today.year and self.today >= date(year, 7, 1):
                raised = replace(terms, poverty_line_fen=terms.poverty_line_fen + 2_000,
                                 poverty_line_rural_fen=terms.poverty_line_rural_fen + 2_000)
                add_version(self.county.id, Draft(year, date(year, 7, 1), "年中提高城乡低保标准", raised), None)
        db.session.flush()

    def _add_contractors(self) -> list[tuple[ContractorSpec, Contractor]]:
        rng = self._rng("contractors")
        added = []
        before, since = self.plan.credit_regions
        for spec in self.plan.contractors[:self.spec.contractors]:
            contractor = save_contractor(
                None, name=spec.name,
                credit_code=self.people.credit_code(before if spec.founded < self.plan.region_since else since),
                contact_person=self.people.name(rng.random() < 0.4, young=True), contact_phone=self.people.mobile(),
                county_id=self.county.id)
            count = rng.randint(*self.spec.workers)
            for index in range(1, count + 1):
                save_worker(contractor, None, worker_no=f"{spec.worker_prefix}{index:03d}",
                            name=self.people.name(rng.random() < 0.3, young=True), phone=self.people.mobile(),
                            active=index < count or rng.random() < 0.5)
            added.append((spec, contractor))
        return added

    def _add_subjects(self) -> tuple[list[dict], list[dict]]:
        """Insert households and persons in bulk; returns their rows with ids."""
        rng = self._rng("subjects")
        households, persons = [], []
        for _ in range(self.spec.households):
            category = _HOUSEHOLD_CATEGORIES.pick(rng)
            households.append(self._subject(rng, "household", category, ages=(25, 85, 55), male_share=0.62,
                                            phone_share=0.9, size=_HOUSEHOLD_SIZES[category].pick(rng)))
        for _ in range(self.spec.persons):
            persons.append(self._subject(rng, "person", "特困", ages=_PERSON_AGES.pick(rng), male_share=0.6,
                                         phone_share=0.6, size=None))
        rows = households + persons
        db.session.execute(insert(Subject.__table__), rows)
        # Plain executemany: RETURNING over tens of thousands of rows is many times slower.
        ids = dict(db.session.execute(select(Subject.id_number, Subject.id)).all())
        for row in rows:
            row["id"] = ids[row["id_number"]]
        record_event("seed", "Subject", None, {"rows": len(rows), "household": len(households), "person": len(persons)})
        return households, persons

    def _subject(self, rng, kind, category, *, ages, male_share, phone_share, size) -> dict:
        """One subject row; the name and ID number are those of the household head or the person."""
        township = self.places.pick(rng)
        male = rng.random() < male_share
        birth = self.people.birth_date(self.today, *ages)
        return {"county_id": self.county.id, "kind": kind, "name": self.people.name(male), "id_number": self.people.id_number(birth, male),
                "township": township, "village": rng.choice(self.villages[township]), "category": category,
                "phone": self.people.mobile() if rng.random() < phone_share else None, "household_size": size}

    def _add_contracts(self, contractors, households, persons) -> list[tuple[Contract, ContractorSpec, frozenset]]:
        """The survey contract for the whole county, and care contracts split into lots by township."""
        rng = self._rng("contracts")
        survey_start = shift_month(self.today.replace(day=1), -9)
        care_start = date(self.today.year, 1, 1) if self.today.month >= 7 else date(self.today.year - 1, 7, 1)
        all_townships = frozenset(name for name, _, _ in self.townships)
        care_lots = ([all_townships] if len(contractors) < 3 else
                     [frozenset(name for name, _, lot in self.townships if lot == number) for number in (1, 2)])
        survey_target = round(len(households) * SURVEY_SHARE)
        plans = [_ContractPlan(contractors[0], "公开招标", survey_start, all_townships, None,
                               {"household_survey": (survey_target, 1)}, dict(DEFAULT_SAMPLING_RULE),
                               survey_target * rng.randrange(950, 1060, 10), self.plan.name)]
        for lot_number, (lot, owner) in enumerate(zip(care_lots, contractors[1:]), start=1):
            served = sum(1 for person in persons if person["township"] in lot)
            visits = served * 12 * CARE_VISITS_PER_MONTH
            plans.append(_ContractPlan(
                owner, _CARE_METHODS[lot_number - 1], care_start, lot, lot_number if len(care_lots) > 1 else None,
                {"self_care_assessment": (served, 1), "care_visit": (visits, CARE_VISITS_PER_MONTH)},
                _CARE_SAMPLING_RULES[lot_number - 1],
                served * rng.randrange(260, 320, 10) + visits * rng.randrange(75, 95, 5), self.plan.name))
        contracts = []
        for number, plan in enumerate(plans, start=1):
            spec, contractor = plan.owner
            contract = save_contract(
                None, lines=plan.lines, code=f"{self.plan.contract_prefix}-{plan.start.year}-{number:03d}", title=plan.title,
                contractor_id=contractor.id, procurement_method=plan.method,
                amount_fen=round(plan.amount_yuan, -2) * 100, term_start=plan.start, term_end=plan.end,
                performance_share_bp=3000, kpi_scheme_code="default", sampling_rule=plan.sampling_rule)
            contracts.append((contract, spec, plan.townships))
            self.contract_summaries.append(ContractSummary(contract.code, plan.title, spec.name, tuple(plan.lines),
                                                           plan.start, plan.end, contract.amount_fen))
        return contracts

    def _add_assignments(self, contracts, households, persons) -> None:
        for contract, spec, lot in contracts:
            if "household_survey" in contract.service_types:
                self._surveys(contract, spec.profile, [h for h in households if h["township"] in lot])
            else:
                self._person_services(contract, spec.profile, [p for p in persons if p["township"] in lot])
        counties = {contract.id: contract.county_id for contract, _, _ in contracts}
        rows = [{**row, "county_id": counties[row["contract_id"]]} for row in self.schedule.numbered_rows()]
        db.session.execute(insert(Assignment.__table__), rows)
        by_status = Counter(row["status"] for row in rows)
        record_event("seed", "Assignment", None, {"rows": len(rows), "by_status": dict(sorted(by_status.items()))})

    def _surveys(self, contract, profile, households) -> None:
        """The year's target of households, a twelfth issued each month and due at its last working day."""
        schedule, calendar = self.schedule, self.calendar
        target = contract.service_lines[0].annual_target
        chosen = schedule.rng.sample(households, min(target, len(households)))
        for month, (first, last) in enumerate(month_windows(contract.term_start)):
            for household in chosen[month::12]:
                schedule.add(contract_id=contract.id, subject_id=household["id"], service_type="household_survey",
                             issue=calendar.first_working_day(first, last), due=calendar.last_working_day(first, last),
                             profile=profile, cancel_reasons=_HOUSEHOLD_CANCEL)

    def _person_services(self, contract, profile, persons) -> None:
        """An assessment per person (first quarter, or on entry), some re-assessments, monthly care visits."""
        schedule, calendar, rng = self.schedule, self.calendar, self.schedule.rng
        months = month_windows(contract.term_start)
        current = next(m for m, (first, last) in enumerate(months) if first <= self.today <= last)
        for rank, person in enumerate(persons):
            # People join (newly approved) and leave (die) during the year, but only up to today.
            entry = rng.randint(1, current) if current and rng.random() < 0.08 else 0
            exit_month = rng.randint(entry, current) if rng.random() < 0.04 else None
            died = "服务对象已去世，终止服务"
            common = {"contract_id": contract.id, "subject_id": person["id"], "profile": profile}
            if entry:
                schedule.add(**common, **self._within_ten_working_days(months[entry]), note="新纳入特困人员首次评估",
                             cancelled=died if exit_month == entry else None)
            else:
                campaign = rank % 3
                first, last = months[campaign]
                schedule.add(**common, service_type="self_care_assessment",
                             issue=calendar.first_working_day(first, last), due=calendar.last_working_day(first, last),
                             cancelled=died if exit_month is not None and exit_month <= campaign else None,
                             cancel_reasons=_PERSON_CANCEL)
            if exit_month is None and current >= 3 and rng.random() < 0.05:
                schedule.add(**common, **self._within_ten_working_days(months[rng.randint(3, current)]),
                             note="对象身体状况变化，10个工作日内复评")
            for month in range(entry, 12 if exit_month is None else exit_month + 1):
                first, last = months[month]
                schedule.add(**common, service_type="care_visit", issue=first, due=last,
                             required_visits=CARE_VISITS_PER_MONTH, cancelled=died if month == exit_month else None,
                             cancel_reasons=_PERSON_CANCEL)

    def _within_ten_working_days(self, month: tuple[date, date]) -> dict:
        """An assessment prompted by an event during `month` (not after today), due in 10 working days."""
        first, last = month
        event_day = first + timedelta(days=self.schedule.rng.randrange((last - first).days + 1))
        issue = min(self.calendar.first_working_day(event_day, last), self.today)
        return {"service_type": "self_care_assessment", "issue": issue,
                "due": self.calendar.add_working_days(issue, 10)}

    def _add_users(self, contractors) -> dict[str, User]:
        """The log-ins, by user name."""
        users = {}
        for username, role, display_name in self.plan.staff:
            users[username] = self._user(username, role, display_name, None)
        for spec, contractor in contractors:
            users[spec.login] = self._user(spec.login, "contractor", f"{spec.short}·{contractor.contact_person}",
                                           contractor)
        return users

    def _add_field_workers(self, contractors) -> None:
        """One field-worker account per contractor (`<login>-w1`, its first registered worker),
        given the contractor's open assignments due soonest (issue 12: the field app)."""
        for spec, contractor in contractors:
            worker = db.session.execute(select(FieldWorker).where(FieldWorker.contractor_id == contractor.id)
                                        .order_by(FieldWorker.worker_no).limit(1)).scalar_one_or_none()
            if worker is None:
                continue
            username = f"{spec.login}-w1"
            password = f"demo-{username}"
            user = create_user(username, password, Role.FIELD_WORKER, f"{spec.short}·{worker.name}",
                               field_worker_id=worker.id)
            user.email = f"{username}@{spec.login}-sg.example.cn"
            self.user_summaries.append(UserSummary(username, password, Role.FIELD_WORKER, contractor.name, user.email,
                                                   self.county.name))
            open_ones = db.session.execute(
                select(Assignment).join(Contract, Assignment.contract_id == Contract.id)
                .where(Contract.contractor_id == contractor.id,
                       Assignment.status.in_((AssignmentStatus.ASSIGNED, AssignmentStatus.OVERDUE)))
                .order_by(Assignment.due_date, Assignment.id).limit(12)).scalars().all()
            for assignment in open_ones:
                assignment.worker_id = worker.id
        db.session.flush()

    def _user(self, username: str, role: str, display_name: str, contractor: Contractor | None) -> User:
        password = f"demo-{username}"
        user = create_user(username, password, role, display_name, contractor.id if contractor else None,
                           area_id=None if contractor else self.county.id)
        user.email = demo_email(username, contractor is not None, self.plan.mail_domain)
        self.user_summaries.append(UserSummary(username, password, role, contractor.name if contractor else None,
                                               user.email, self.county.name))
        return user

    def _add_activity(self, contracts, users: dict[str, User]) -> None:
        """A year of uploads, draws, checks, callbacks and reviews, replayed through the services."""
        parties = [Party(contract, users[spec.login], spec.profile,
                         ContractLogs(contract, spec.short, spec.profile.errors, self._rng(f"records:{contract.code}"),
                                      self.today, self.plan.seat))
                   for contract, spec, _ in contracts]
        staff = {part: users[username] for part, (username, _, _) in self.staff.items()}
        Activity(parties, staff, self.seed, self.today, self.calendar, self._rng("activity")).run()

    def _add_payment_schedules(self, contracts, users: dict[str, User]) -> None:
        """Each contract's payment schedule (an advance paid when due, a progress payment on the
        first year's 履约验收, a performance installment per year) and its first year's acceptance,
        opened with its team; concluded when that year is over."""
        admin, supervisor = users[self.staff["admin"][0]], users[self.staff["supervisor"][0]]
        leader = self.staff["supervisor"][2].split()[-1]
        token = set_actor(Actor(admin.id, admin.username, "127.0.0.1"))
        try:
            with replayed_at(datetime.combine(self.today - ONE_DAY, time(2))):
                for contract, _, _ in contracts:
                    first = contract.term_start.year
                    due = contract.term_start + timedelta(days=14)
                    advance = installments.add_installment(
                        contract, title="首期预付款", kind="advance", condition="date", amount_fen=None, share_bp=3000,
                        year=None, due_on=due, user=admin)
                    if due < self.today:
                        installments.pay_installment(advance, due, admin, self.today)
                    installments.add_installment(
                        contract, title=f"{first}年度验收后进度款", kind="progress", condition="acceptance",
                        amount_fen=None, share_bp=2000, year=first, due_on=None, user=admin)
                    for year in range(first, contract.term_end.year + 1):
                        installments.add_installment(
                            contract, title=f"{year}年度履约绩效款", kind="performance", condition="evaluation",
                            amount_fen=None, share_bp=None, year=year, due_on=None, user=admin)
                    acceptance = acceptances.open_acceptance(contract, first, supervisor)
                    acceptances.add_member(acceptance, leader, "leader", f"{self.plan.name}民政局救助股")
                    acceptances.add_member(acceptance, "钟国平", "expert", "赣州市社会工作协会")
                    acceptances.add_member(acceptance, "谢桂英", "recipient", "低保户代表")
                    if first < self.today.year:
                        acceptances.conclude(acceptance, conclusion="qualified", opinion="服务按合同约定完成，同意验收",
                                             accepted_on=self.today - ONE_DAY, user=supervisor, today=self.today)
            db.session.commit()
        finally:
            reset_actor(token)


def row_counts() -> dict[str, int]:
    """Rows per record type, and the records of each type split by status, kind or outcome."""
    counts = {model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
              for model in (Contractor, FieldWorker, Contract, User, LocalStandard, Assignment, CompletionRecord,
                            UploadBatch, SamplingDraw, SpotCheck, RectificationNotice, Callback, Complaint,
                            QuarterlyReview, AnnualEvaluation, VerificationImport, EvidenceFlag)}
    for prefix, column in (("subjects", Subject.kind), ("assignments", Assignment.service_type),
                           ("assignments", Assignment.status), ("completion_records_flagged", CompletionRecord.flagged),
                           ("sampling_draws", SamplingDraw.purpose), ("spot_checks_passed", SpotCheck.passed),
                           ("rectification_notices", RectificationNotice.status), ("callbacks", Callback.status),
                           ("quarterly_reviews", QuarterlyReview.status)):
        for value, count in db.session.execute(select(column, func.count()).group_by(column).order_by(column)):
            counts[f"{prefix}_{str(value).lower()}"] = count
    return counts


def _split(counts: dict[str, int], prefix: str, labels: dict[str, str]) -> str:
    """"label count" for each status present, or 无."""
    parts = [f"{label} {counts[f'{prefix}_{status}']}" for status, label in labels.items()
             if counts.get(f"{prefix}_{status}")]
    return "，".join(parts) or "无"


def _place(summary: DemoSummary) -> str:
    """赣县区, or 赣州市（赣县区、章贡区、南康区） for a city."""
    if len(summary.counties) == 1:
        return summary.counties[0]
    return f"{CITY[1]}（{'、'.join(summary.counties)}）"


def summary_text(summary: DemoSummary, seconds: float) -> str:
    """The Chinese summary printed without --json."""
    counts = summary.counts
    lines = [
        f"演示数据已生成：{_place(summary)}（规模 {summary.scale}，种子 {summary.seed}，基准日 {summary.today}，用时 {seconds:.1f} 秒）",
        f"  承接机构 {counts['contractors']} 家，服务人员 {counts['field_workers']} 名，合同 {counts['contracts']} 份，"
        f"地方标准 {counts['local_standards']} 个年度",
        f"  服务对象：{SubjectKind.HOUSEHOLD.label} {counts.get('subjects_household', 0)} 户，"
        f"{SubjectKind.PERSON.label} {counts.get('subjects_person', 0)} 人",
        f"  任务 {counts['assignments']} 条：" + "，".join(
            f"{label} {counts.get('assignments_' + status, 0)}" for status, label in AssignmentStatus.labels().items()),
        f"  服务记录 {counts['completion_records']} 条（{counts['upload_batches']} 个上传批次，"
        f"异常标记 {counts.get('completion_records_flagged_true', 0)} 条）",
        f"  抽样 {counts['sampling_draws']} 次（抽查复检 {counts.get('sampling_draws_spot_check', 0)}，"
        f"电话回访 {counts.get('sampling_draws_callback', 0)}）；复检 {counts['spot_checks']} 条，"
        f"不合格 {counts.get('spot_checks_passed_false', 0)} 条",
        f"  整改通知 {counts['rectification_notices']} 份：" + _split(counts, "rectification_notices", NoticeStatus.labels()),
        f"  电话回访 {counts['callbacks']} 户：" + _split(counts, "callbacks", CallbackStatus.labels())
        + f"；投诉 {counts['complaints']} 件",
        f"  核对数据导入 {counts['verification_imports']} 次，核对疑点 {counts['evidence_flags']} 条",
        f"  季度考核 {counts['quarterly_reviews']} 份：" + _split(counts, "quarterly_reviews", ReviewStatus.labels())
        + f"；年度评价 {counts['annual_evaluations']} 份",
        "合同：",
    ]
    for contract in summary.contracts:
        services = "、".join(label_of(ServiceType, service) for service in contract.service_types)
        lines.append(f"  {contract.code}  {contract.contractor}  {services}  "
                     f"{contract.term_start}至{contract.term_end}  ¥{contract.amount_fen // 100:,}")
    lines.append("演示账号（用户名 / 密码 / 角色 / 通知邮箱）：" if len(summary.counties) == 1 else
                 "演示账号（用户名 / 密码 / 角色 / 所属区划 / 通知邮箱）：")
    for user in summary.users:
        owner = f"（{user.contractor}）" if user.contractor else ""
        area = f"  {user.area}" if len(summary.counties) > 1 else ""
        lines.append(f"  {user.username:<16} {user.password:<21} {label_of(Role, user.role)}{owner}{area}  "
                     f"{user.email or ''}")
    return "\n".join(lines)


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--scale", type=click.Choice(list(SCALES)), default="county", show_default=True,
                  help="small: 60 households, 20 persons, 2 contractors; county: 3,000 households, "
                       "400 persons, 3 contractors (赣县区); city: 赣州市 with 赣县区, 章贡区 and 南康区, "
                       "30,000 households and 4,000 persons in all, 3 contractors each, and city log-ins; "
                       "small-city: the three counties at the small scale.")
    @click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
                  help="the same seed (and day) always gives the same data")
    @click.option("--json", "as_json", is_flag=True, help="print only the contracts and log-ins, as JSON")
    @click.option("--reset", is_flag=True,
                  help="first delete every row of every table (all data, users and the audit log included; "
                       "the schema stays), in the same transaction as the seeding")
    def seed_demo(scale, seed, as_json, reset):
        """Build the demo county (赣县区), or the city (赣州市, three counties): contractors, contracts, subjects, a year of assignments and their
        completion logs, log-ins, and each finished quarter's draws, re-checks, rectification notices,
        callbacks and quarterly review, made through the services by the demo's users.

        Refuses a database that already holds contracts, contractors, subjects, assignments or one
        of the demo user names. --reset empties such a database first; a failure rolls the whole
        run back, so the old data stay. Alternatively delete instance/oversight.sqlite and run
        init-db again.
        """
        started = clock.perf_counter()
        try:
            summary = build_demo(scale, seed, county_today(), reset=reset)
        except DemoError as error:
            raise click.ClickException(str(error)) from None
        if reset:
            click.echo("已清空原有数据（含用户和审计日志）后重建", err=True)
        if as_json:
            click.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
        else:
            click.echo(summary_text(summary, clock.perf_counter() - started))
