"""The bench database: the city demo (three counties) plus years of history, one million completion records.

    .venv/bin/python bench/history.py build --db sqlite          # bench/out/sqlite/oversight.sqlite
    .venv/bin/python bench/history.py build --db postgresql      # database bench_oversight on 127.0.0.1
    .venv/bin/python bench/history.py indexes --db sqlite        # add model indexes the database lacks
    .venv/bin/python bench/history.py drop --db postgresql

`build` brings an empty database to the newest schema (the Alembic migrations), seeds
`seed-demo --scale city` as of today (赣州市: 赣县区, 章贡区 and 南康区), then adds each county's
contracts of earlier years (one survey contract and two care lots a year per county, terms
ending where the next begins) with their assignments,
issued by the demo's own schedule, until the completion records reach `--records`. Every
completed assignment gets its visits (one, or two for a month of care), in upload batches per
contract, service and month, with plausible values per service type and a few anomaly flags.
The last `--checked-quarters` quarters then go through the real services: spot-check and
callback draws (`make_draws`, each county's by its own supervisors), blind re-checks,
rectification notices, callbacks with their attempts, and quarterly reviews (published and
approved, the newest left as drafts).

The other bench scripts import `database_url`, `bench_env` and `bench_app` from here.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeds.records import whole_yuan  # noqa: E402  (after the path is set)

OUT = ROOT / "bench" / "out"
PG_DATABASE = "bench_oversight"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
KINDS = ("sqlite", "postgresql")
DEFAULT_RECORDS = 1_000_000
DEFAULT_CHECKED_QUARTERS = 8
INSERT_CHUNK = 20_000


def instance_path(kind: str) -> Path:
    """The instance folder of the bench app (secret key, uploads, and the SQLite file)."""
    return OUT / kind


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{instance_path(kind) / 'oversight.sqlite'}"
    return f"{PG_SERVER}/{PG_DATABASE}"


def bench_env(kind: str) -> dict[str, str]:
    """The environment a process serving the bench database needs."""
    return {**os.environ, "DATABASE_URL": database_url(kind), "OVERSIGHT_INSTANCE_PATH": str(instance_path(kind))}


def bench_app(kind: str):
    """The app on the bench database (the environment of this process is set accordingly)."""
    os.environ.update({key: value for key, value in bench_env(kind).items()
                       if key in ("DATABASE_URL", "OVERSIGHT_INSTANCE_PATH")})
    from oversight import create_app

    return create_app()


def _psql(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-At", *args],
                          capture_output=True, text=True, check=True)


def exists(kind: str) -> bool:
    if kind == "sqlite":
        return (instance_path(kind) / "oversight.sqlite").exists()
    found = _psql("-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'")
    return found.stdout.strip() == "1"


def drop(kind: str) -> None:
    """Remove the bench database (and its instance folder)."""
    if kind == "postgresql":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", PG_DATABASE],
                       check=True)
    shutil.rmtree(instance_path(kind), ignore_errors=True)


def create_empty(kind: str) -> None:
    drop(kind)
    instance_path(kind).mkdir(parents=True)
    if kind == "postgresql":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DATABASE], check=True)
        # The setting PostgreSQL's manual gives for SSDs and data held in memory (the README's
        # production section asks for it too): with the default 4 the planner prefers a hash join
        # over all assignments to index lookups for the township filter.
        _psql("-d", PG_DATABASE, "-c", f"ALTER DATABASE {PG_DATABASE} SET random_page_cost = 1.1")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Clock:
    """Prints each step with its duration."""

    def __init__(self):
        self.started = self.last = time.perf_counter()

    def step(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {now - self.last:7.1f} s  {what}", flush=True)
        self.last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


# --- the history -----------------------------------------------------------------------------

_CARE_ITEMS = ("日常看护", "生活照料", "送医陪护", "人文关怀", "心理疏导", "精神慰藉", "环境适应", "社会融入", "能力提升")
_CARE_MINUTES = (30, 180)
_SURVEY_MINUTES = (35, 150)
_ASSESSMENT_MINUTES = (20, 70)
_COUNTY_CENTRE = (114.95, 25.85)


class History:
    """Adds the earlier years, the visits of every assignment, and the checked quarters."""

    def __init__(self, seed: int, today: date, target_records: int, checked_quarters: int, clock: Clock,
                 scale: str = "city"):
        self.seed, self.today, self.target, self.checked_quarters = seed, today, target_records, checked_quarters
        self.scale = scale
        self.clock = clock
        self.rng = random.Random(f"{seed}:bench")
        self.records = 0
        self.years = 0

    # -- set-up reads

    def load(self) -> None:
        from sqlalchemy import select

        from oversight.extensions import db
        from oversight.models import Assignment, Contract, FieldWorker, LocalStandard, Subject, User

        from oversight.models import Area
        from seeds.counties import COUNTIES

        self.contracts = list(db.session.execute(select(Contract).order_by(Contract.code)).scalars())
        # The city's counties, each with the demo's contracts of its own.
        codes = dict(db.session.execute(select(Area.id, Area.code).where(
            Area.id.in_({contract.county_id for contract in self.contracts}))).all())
        self.plans = {county_id: next(plan for plan in COUNTIES if plan.code == code)
                      for county_id, code in codes.items()}
        self.by_county = defaultdict(list)
        for contract in self.contracts:
            self.by_county[contract.county_id].append(contract)
        subjects = db.session.execute(select(Subject.id, Subject.kind, Subject.township, Subject.county_id)
                                      .order_by(Subject.id)).all()
        self.households = [{"id": s.id, "township": s.township, "county_id": s.county_id}
                           for s in subjects if s.kind == "household"]
        self.persons = [{"id": s.id, "township": s.township, "county_id": s.county_id}
                        for s in subjects if s.kind == "person"]
        self.workers = defaultdict(list)
        for worker in db.session.execute(select(FieldWorker).order_by(FieldWorker.worker_no)).scalars():
            self.workers[worker.contractor_id].append(worker.id)
        # Each county's 低保标准 by year (they differ by county).
        self.lines = defaultdict(dict)
        for standard in db.session.execute(select(LocalStandard)).scalars():
            self.lines[standard.county_id][standard.year] = standard.poverty_line_fen
        self.users = {user.username: user for user in db.session.execute(select(User)).scalars()}
        specs = [spec for plan in COUNTIES for spec in plan.contractors]
        self.profiles = {contract.contractor_id: next(spec.profile for spec in specs
                                                      if spec.name == contract.contractor.name)
                         for contract in self.contracts}
        # The contractor's own staff account answers notices (its field workers' accounts may not).
        self.contractor_users = {user.contractor_id: user for user in self.users.values()
                                 if user.contractor_id and user.role == "contractor"}
        townships = sorted({s.township for s in subjects})
        self.centres = {}
        for township in townships:
            local = random.Random(f"centre:{township}")
            self.centres[township] = (_COUNTY_CENTRE[0] + local.uniform(-0.3, 0.3),
                                      _COUNTY_CENTRE[1] + local.uniform(-0.3, 0.3))
        self.township_rank = {name: index for index, name in enumerate(townships)}
        self.numbers_by_day = Counter()
        for number in db.session.execute(select(Assignment.number)).scalars():
            day, sequence = number[2:10], int(number.rsplit("-", 1)[1])
            self.numbers_by_day[day] = max(self.numbers_by_day[day], sequence)

    # -- earlier years

    def add_standards(self, county_id: int, year: int) -> None:
        from oversight.extensions import db
        from oversight.models import LocalStandard
        from seeds.reference import public_holidays

        if year in self.lines[county_id]:
            return
        plan = self.plans[county_id]
        figures = plan.standards
        steps = self.today.year - 1 - year  # the demo's earliest year has the plan's base figures
        line = figures.poverty_line - figures.poverty_step * steps
        tiers = [tier - step * steps for tier, step in zip(figures.care_tiers, figures.care_steps)]
        db.session.add(LocalStandard(
            county_id=county_id, year=year, county=plan.name, poverty_line_fen=line,
            care_allowance_tier1_fen=tiers[0], care_allowance_tier2_fen=tiers[1], care_allowance_tier3_fen=tiers[2],
            holidays=[day.isoformat() for day in public_holidays(year)]))
        self.lines[county_id][year] = line

    def earlier_year(self, years_back: int) -> list:
        """Each county's contracts `years_back` years before the demo's, with their assignments;
        returns them."""
        from sqlalchemy import insert

        from oversight.extensions import db
        from oversight.models import Assignment
        from oversight.services.audit import record_event
        from oversight.services.registry import save_contract
        from seeds.demo import CARE_VISITS_PER_MONTH, SCALES, SURVEY_SHARE, _Builder, _ContractPlan
        from seeds.schedule import Schedule, WorkCalendar, shift_month

        made = []
        rows = []
        currents = [(county_id, number, current) for county_id, contracts in sorted(self.by_county.items())
                    for number, current in enumerate(contracts[:3], start=1)]
        for county_id, number, current in currents:
            plan_of_county = self.plans[county_id]
            spec = next(spec for spec in plan_of_county.contractors if spec.name == current.contractor.name)
            start = shift_month(current.term_start, -12 * years_back)
            term_end = shift_month(start, 12) - timedelta(days=1)
            for year in range(start.year, term_end.year + 1):
                self.add_standards(county_id, year)
            builder = _Builder(SCALES[self.scale].for_county(plan_of_county), self.scale,
                               f"{self.seed}:history:{years_back}:{number}", term_end, plan_of_county)
            builder.schedule = Schedule(builder._rng("assignments"), self.today)
            builder.calendar = WorkCalendar(range(start.year - 1, term_end.year + 2))
            lot_townships = self._lot_townships(current)
            if "household_survey" in current.service_types:
                people = [h for h in self.households if h["county_id"] == county_id and h["township"] in lot_townships]
                target = round(len(people) * SURVEY_SHARE)
                lines = {"household_survey": (target, 1)}
                amount = target * builder._rng("price").randrange(900, 1010, 10)
            else:
                # Some of today's persons were not yet in care that year.
                present = builder._rng("present")
                people = [p for p in self.persons if p["county_id"] == county_id and p["township"] in lot_townships
                          and present.random() < 0.94]
                visits = len(people) * 12 * CARE_VISITS_PER_MONTH
                lines = {"self_care_assessment": (len(people), 1), "care_visit": (visits, CARE_VISITS_PER_MONTH)}
                amount = len(people) * 280 + visits * 80
            plan = _ContractPlan((spec, current.contractor), current.procurement_method, start,
                                 frozenset(lot_townships), self._lot_number(current), lines,
                                 dict(current.sampling_rule), amount, plan_of_county.name)
            contract = save_contract(
                None, lines=plan.lines, code=f"{plan_of_county.contract_prefix}-{start.year}-{number:03d}",
                title=plan.title,
                contractor_id=current.contractor_id, procurement_method=plan.method,
                amount_fen=round(plan.amount_yuan, -2) * 100, term_start=plan.start, term_end=plan.end,
                performance_share_bp=3000, kpi_scheme_code="default", sampling_rule=plan.sampling_rule)
            if "household_survey" in current.service_types:
                builder._surveys(contract, spec.profile, people)
            else:
                builder._person_services(contract, spec.profile, people)
            rows.extend({**row, "county_id": contract.county_id}
                        for row in self._renumbered(builder.schedule.numbered_rows()))
            made.append(contract)
        rows.sort(key=lambda row: row["number"])
        for start in range(0, len(rows), INSERT_CHUNK):
            db.session.execute(insert(Assignment.__table__), rows[start:start + INSERT_CHUNK])
        record_event("seed", "Assignment", None, {"rows": len(rows), "bench_history_years_back": years_back})
        return made

    def _lot_townships(self, contract) -> set[str]:
        from sqlalchemy import select

        from oversight.extensions import db
        from oversight.models import Assignment, Subject

        return set(db.session.execute(
            select(Subject.township).join(Assignment, Assignment.subject_id == Subject.id)
            .where(Assignment.contract_id == contract.id).distinct()).scalars())

    @staticmethod
    def _lot_number(contract) -> int | None:
        title = contract.title
        return int(title[title.index("（") + 1]) if "标段" in title else None

    def _renumbered(self, rows: list[dict]) -> list[dict]:
        """Bureau numbers continue each issue day's sequence, so that none repeats an existing one."""
        for row in rows:
            day = row["number"][2:10]
            self.numbers_by_day[day] += 1
            row["number"] = f"RW{day}-{self.numbers_by_day[day]:06d}"
        return rows

    # -- visits

    def visits_of(self, contracts) -> int:
        """Completion records (in upload batches) for every assignment of `contracts`; returns how many."""
        from sqlalchemy import func, insert, select

        from oversight.extensions import db
        from oversight.models import Assignment, CompletionRecord, Subject, UploadBatch
        from oversight.services.audit import record_event

        added = 0
        for contract in contracts:
            seeded = db.session.execute(select(func.count()).select_from(CompletionRecord)
                                        .where(CompletionRecord.contract_id == contract.id)).scalar_one()
            if seeded:  # the demo seeds its own year of records: keep them
                added += seeded
                continue
            rows = db.session.execute(
                select(Assignment.id, Assignment.service_type, Assignment.due_date, Assignment.status,
                       Assignment.completed_at, Assignment.required_visits, Assignment.created_at,
                       Subject.township, Subject.household_size)
                .join(Subject, Assignment.subject_id == Subject.id)
                .where(Assignment.contract_id == contract.id).order_by(Assignment.id)).all()
            workers = self.workers[contract.contractor_id]
            records = []
            for row in rows:
                for number, day in enumerate(self._visit_days(row, contract)):
                    records.append(self._record(row, contract, workers, day, number))
            records.sort(key=lambda record: (record["service_date"], record["start_time"]))
            batches = self._batches(contract, records)
            db.session.execute(insert(UploadBatch.__table__), list(batches.values()))
            ids = dict(db.session.execute(select(UploadBatch.filename, UploadBatch.id)
                                          .where(UploadBatch.contract_id == contract.id)).all())
            rows_in = Counter()
            for record in records:
                batch = record.pop("_batch")
                record["batch_id"] = ids[batch]
                rows_in[batch] += 1
                record["excel_row"] = rows_in[batch] + 1
            for start in range(0, len(records), INSERT_CHUNK):
                db.session.execute(insert(CompletionRecord.__table__), records[start:start + INSERT_CHUNK])
            record_event("import", "CompletionRecord", None,
                         {"rows": len(records), "batches": len(batches), "contract": contract.code, "bench": True})
            added += len(records)
        return added

    def _visit_days(self, row, contract) -> list[date]:
        """The service days of an assignment's visits: all of them when completed, maybe one of a
        care month still open or overdue, none otherwise."""
        rng = self.rng
        issue = row.created_at.date()
        latest = min(contract.term_end, self.today - timedelta(days=1))
        if row.status == "completed":
            last, count = min(row.completed_at.date(), latest), row.required_visits
        elif row.service_type == "care_visit" and row.status in ("assigned", "overdue") and rng.random() < 0.5:
            end = min(row.due_date, latest)
            if end < issue:
                return []
            last, count = issue + timedelta(days=rng.randint(0, (end - issue).days)), 1
        else:
            return []
        last = max(last, issue)
        return sorted(issue + timedelta(days=rng.randint(0, (last - issue).days)) for _ in range(count - 1)) + [last]

    def _record(self, row, contract, workers: list[int], day: date, number: int) -> dict:
        rng = self.rng
        flags = []
        service = row.service_type
        low, high = {"care_visit": _CARE_MINUTES, "household_survey": _SURVEY_MINUTES}.get(service, _ASSESSMENT_MINUTES)
        duration = rng.randint(low, high)
        if rng.random() < 0.008:
            duration = rng.randint(3, 9)
            flags.append(("short_visit", f"服务时长 {duration} 分钟，短于 10 分钟"))
        # A second visit on the same day is in the afternoon, so that (assignment, day, time) stays unique.
        start = rng.randrange(8 * 60, 11 * 60 + 30, 5) if number == 0 else rng.randrange(13 * 60 + 30, 17 * 60, 5)
        if rng.random() < 0.002:
            start = rng.randrange(5 * 60, 5 * 60 + 55, 5)
            flags.append(("odd_hours", "服务开始时间早于 06:00"))
        end = start + duration
        rank = self.township_rank[row.township]
        # Each township has its team (every n-th worker); one in seven visits is a colleague's cover.
        team = workers[rank % len(workers)::len(self.centres)] or workers
        worker = rng.choice(team) if rng.random() >= 1 / 7 else rng.choice(workers)
        longitude = latitude = None
        if rng.random() < 0.7:
            centre = self.centres[row.township]
            longitude, latitude = centre[0] + rng.uniform(-0.04, 0.04), centre[1] + rng.uniform(-0.04, 0.04)
            if rng.random() < 0.004:
                longitude += 0.35
                flags.append(("far_from_township", "坐标距对象所在乡镇中心约 35 公里"))
        record = {
            "assignment_id": row.id, "contract_id": contract.id, "county_id": contract.county_id,
            "service_type": service,
            "entered_by_id": None, "created_at": None,  # the upload's time, set with the batch
            "service_date": day, "start_time": f"{start // 60:02d}:{start % 60:02d}",
            "end_time": f"{end // 60:02d}:{end % 60:02d}", "duration_minutes": duration, "worker_id": worker,
            "longitude": None if longitude is None else round(longitude, 6),
            "latitude": None if latitude is None else round(latitude, 6),
            "remark": "对象外出，电话预约后补访" if rng.random() < 0.01 else None,
            **dict.fromkeys(("household_size", "annual_income_fen", "wage_income_fen", "business_income_fen",
                             "property_income_fen", "transfer_income_fen", "other_income_fen",
                             "financial_assets_fen", "property_count", "vehicle_count", "survey_conclusion",
                             "per_capita_monthly_income_fen", "eating", "dressing", "transfer", "toileting",
                             "walking", "bathing", "conclusion", "fails", "care_items", "signed")),
        }
        if service == "household_survey":
            self._survey(record, row.household_size or 1, day, flags)
        elif service == "self_care_assessment":
            self._assessment(record)
        else:
            record["care_items"] = "、".join(rng.sample(_CARE_ITEMS, rng.choice((1, 1, 2, 2, 2, 3))))
            record["signed"] = rng.random() >= 0.015
            if not record["signed"]:
                flags.append(("unsigned", "服务对象未签字确认"))
        record["anomaly_flags"] = [{"code": code, "reason": reason} for code, reason in flags]
        record["flagged"] = bool(flags)
        record["_batch"] = self._batch_name(contract, service, day)
        return record

    def _survey(self, record: dict, size: int, day: date, flags: list) -> None:
        rng = self.rng
        lines = self.lines[record["county_id"]]
        line = lines.get(day.year) or lines[max(lines)]
        eligible = rng.random() < 0.85
        per_capita = line * (rng.uniform(0.25, 0.97) if eligible else rng.uniform(1.05, 2.6))
        income = whole_yuan(per_capita * 12 * size)
        record.update(household_size=size, annual_income_fen=income,
                      per_capita_monthly_income_fen=(income * 2 + size * 12) // (size * 24),
                      financial_assets_fen=whole_yuan(rng.lognormvariate(13.0, 1.1)),
                      property_count=rng.choice((0, 1, 1, 1, 2)), vehicle_count=rng.choice((0, 0, 0, 1)))
        if rng.random() < 0.5:
            wage = whole_yuan(income * rng.uniform(0.3, 0.7))
            transfer = whole_yuan((income - wage) * rng.uniform(0.4, 0.9))
            business = whole_yuan((income - wage - transfer) * rng.uniform(0, 0.8))
            record.update(wage_income_fen=wage, transfer_income_fen=transfer, business_income_fen=business,
                          property_income_fen=0, other_income_fen=income - wage - transfer - business)
        conclusion = "符合" if eligible else "不符合"
        if rng.random() < 0.03:
            conclusion = "需复核"
        elif rng.random() < 0.015:
            conclusion = "不符合" if eligible else "符合"
        record["survey_conclusion"] = conclusion
        if conclusion == "符合" and not eligible:
            flags.append(("eligible_above_line", "结论为符合，但人均月收入不低于低保标准"))
        elif conclusion == "不符合" and per_capita < line / 2:
            flags.append(("ineligible_below_line", "结论为不符合，但人均月收入低于低保标准的一半"))

    def _assessment(self, record: dict) -> None:
        from oversight.domain.self_care import ITEM_KEYS, conclusion_for_fails

        rng = self.rng
        fails = rng.choices((0, 1, 2, 3, 4, 5, 6), weights=(45, 14, 12, 10, 8, 6, 5))[0]
        # Bathing and dressing go first, eating last.
        order = ("bathing", "dressing", "walking", "transfer", "toileting", "eating")
        failed = set(order[:fails]) if rng.random() < 0.8 else set(rng.sample(ITEM_KEYS, fails))
        record.update({key: key not in failed for key in ITEM_KEYS})
        record.update(fails=fails, conclusion=conclusion_for_fails(fails))

    @staticmethod
    def _batch_name(contract, service: str, day: date) -> str:
        from oversight.domain.vocabulary import ServiceType, label_of

        return f"{contract.code}_{label_of(ServiceType, service)}服务记录_{day:%Y年%m月}.xlsx"

    def _batches(self, contract, records: list[dict]) -> dict[str, dict]:
        """One accepted upload per contract, service and month, early in the next month."""
        uploader = self.contractor_users[contract.contractor_id]
        batches: dict[str, dict] = {}
        counts = Counter(record["_batch"] for record in records)
        for record in records:
            name = record["_batch"]
            if name in batches:
                continue
            month = record["service_date"].replace(day=1)
            uploaded = min(datetime.combine((month + timedelta(days=32)).replace(day=3), datetime.min.time())
                           + timedelta(hours=2, minutes=self.rng.randrange(480)),
                           datetime.combine(self.today, datetime.min.time()))
            digest = hashlib.sha256(name.encode()).hexdigest()
            batches[name] = {
                "contract_id": contract.id, "service_type": record["service_type"], "filename": name,
                "sha256": digest, "size_bytes": 180 * counts[name] + 9000, "stored_path": f"uploads/{digest}.xlsx",
                "uploaded_by_id": uploader.id, "uploaded_at": uploaded, "status": "accepted",
                "rows_total": counts[name], "rows_processed": counts[name], "rows_accepted": counts[name],
                "error_count": 0, "errors": [], "error_report_path": None, "message": None, "finished_at": uploaded,
            }
        for record in records:
            record["created_at"] = batches[record["_batch"]]["uploaded_at"]
        return batches

    # -- the checked quarters

    def checked_quarters_list(self):
        from oversight.domain.periods import quarter_of

        quarters = [quarter_of(self.today).previous()]
        while len(quarters) < self.checked_quarters:
            quarters.append(quarters[-1].previous())
        return sorted(quarters)

    def check_quarter(self, quarter, newest: bool) -> dict:
        """Draws, re-checks, notices, callbacks and reviews of one quarter, through the services."""
        from oversight.extensions import db
        from oversight.services.audit import Actor, reset_actor, set_actor
        from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws

        from sqlalchemy import select

        from oversight.models import Contract

        made = {"draws": 0, "checks": 0, "callbacks": 0}
        for county_id, plan in sorted(self.plans.items()):
            # Each county's quarter is drawn and checked by its own two supervisors.
            supervisors = [self.users[plan.staff[1][0]], self.users[plan.staff[2][0]]]
            contracts = db.session.execute(select(Contract.id).where(
                Contract.county_id == county_id, Contract.term_start <= quarter.end,
                Contract.term_end >= quarter.start).order_by(Contract.code)).scalars().all()
            token = set_actor(Actor(supervisors[0].id, supervisors[0].username))
            try:
                spot, calls = [], []
                for contract_id in contracts:
                    spot += make_draws(SPOT_CHECK, quarter, today=self.today, contract_id=contract_id,
                                       risk_weighted=newest or quarter.number % 2 == 0,
                                       seed=f"{self.seed}:{quarter}:spot", user_id=supervisors[0].id).draws
                    calls += make_draws(CALLBACK, quarter, today=self.today, contract_id=contract_id,
                                        seed=f"{self.seed}:{quarter}:call", user_id=supervisors[0].id).draws
                db.session.flush()
                made["checks"] += sum(self._recheck(draw, quarter, supervisors, newest) for draw in spot)
                made["callbacks"] += sum(self._call(draw, supervisors, newest) for draw in calls)
                made["draws"] += len(spot) + len(calls)
            finally:
                reset_actor(token)
        token = set_actor(Actor(None, "bench-history"))
        try:
            made["reviews"] = self._review(quarter, newest)
        finally:
            reset_actor(token)
        db.session.commit()
        return made

    def _recheck(self, draw, quarter, supervisors, newest: bool) -> int:
        from oversight.adapters.files import uploads_store
        from oversight.domain.self_care import ITEM_KEYS
        from oversight.domain.vocabulary import CheckMethod
        from oversight.services.spot_checks import (
            close_notice,
            issue_notice,
            record_spot_check,
            reported_values,
            respond_notice,
        )

        rng = self.rng
        contractor = self.contractor_users[draw.contract.contractor_id]
        # Field errors follow how reliably the contractor works (its demo profile).
        sloppy = 0.6 * (1 - self.profiles[draw.contract.contractor_id].completion)
        done = 0
        for item in draw.items:
            if newest and rng.random() < 0.3:
                continue  # the newest quarter's re-checks are still under way
            record = item.record
            values = dict(reported_values(record))
            if record.service_type == "household_survey":
                if rng.random() < sloppy:
                    values["household_size"] = max(1, values["household_size"] + rng.choice((-1, 1)))
                if rng.random() < sloppy:
                    values["annual_income_fen"] = whole_yuan(values["annual_income_fen"] * rng.uniform(1.15, 1.6))
                if rng.random() < sloppy / 4:
                    values["survey_conclusion"] = "不符合" if values["survey_conclusion"] == "符合" else "符合"
            elif record.service_type == "care_visit":
                if rng.random() < sloppy / 4:
                    values["visit_happened"] = False
                if rng.random() < sloppy:
                    values["care_items"] = frozenset(rng.sample(_CARE_ITEMS, len(values["care_items"])))
            elif rng.random() < sloppy:
                key = rng.choice(ITEM_KEYS)
                values[key] = not values[key]
            checker = supervisors[item.position % 2]
            checked_on = min(quarter.end + timedelta(days=rng.randint(5, 45)), self.today)
            check = record_spot_check(item, checker=checker, method=rng.choice(CheckMethod.codes()), checked_on=checked_on,
                                      values=values, note=None, uploads=[], store=uploads_store(), today=self.today)
            done += 1
            if check.passed:
                continue
            deadline = checked_on + timedelta(days=15)
            notice = issue_notice(check, deadline=deadline, requirement="请核实原始记录，重新入户并更正上报数据",
                                  issuer=checker, today=checked_on)
            if deadline >= self.today and rng.random() < 0.5:
                continue
            if rng.random() < 0.9:
                respond_notice(notice, response="已重新入户核实，上报数据已更正", user=contractor)
                notice.responded_at = datetime.combine(deadline - timedelta(days=rng.randint(-3, 10)),
                                                       datetime.min.time()) + timedelta(hours=3)
            outcome = "accepted" if notice.status == "responded" and rng.random() < 0.9 else "not_accepted"
            close_notice(notice, outcome=outcome, note=None, user=checker)
            notice.closed_at = notice.responded_at or datetime.combine(deadline, datetime.min.time())
            notice.closed_at += timedelta(days=rng.randint(0, 3))
        return done

    def _call(self, draw, supervisors, newest: bool) -> int:
        from oversight.services.callbacks import ATTITUDES, CONNECTED, call_list, record_answers, record_attempt
        from oversight.extensions import db

        rng = self.rng
        answered = 0
        for callback in db.session.execute(call_list(draw.id)).scalars():
            if newest and rng.random() < 0.25:
                continue
            operator = supervisors[callback.id % 2]
            for _ in range(3):
                outcome = rng.choices((CONNECTED, "无人接听", "空号", "拒访"), weights=(80, 15, 2, 3))[0]
                record_attempt(callback, outcome, operator)
                if outcome == CONNECTED or callback.status != "pending":
                    break
            if callback.status != "pending" or callback.attempts[-1].outcome != CONNECTED:
                continue
            confirmed = rng.random() >= 0.01
            satisfaction = rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 14, 4, 2))[0]
            record_answers(callback, confirmed=confirmed, satisfaction=satisfaction, attitude=rng.choice(ATTITUDES),
                           complaint="上门时间太短，服务不到位" if satisfaction <= 2 and rng.random() < 0.5 else None,
                           operator=operator)
            answered += 1
        return answered

    def _review(self, quarter, newest: bool) -> int:
        from oversight.services.reviews import approve, publish, score_quarter_reviews

        outcomes = score_quarter_reviews(quarter)
        scored = [outcome.review for outcome in outcomes if outcome.action in ("created", "refreshed")]
        if not newest:
            for review in scored:
                publish(review, today=quarter.end + timedelta(days=12))
                admin = self.users[self.plans[review.contract.county_id].staff[0][0]]  # the county's admin
                approve(review, admin, today=quarter.end + timedelta(days=30))
        return len(scored)


def build(kind: str, records: int, seed: int, checked_quarters: int, scale: str = "city") -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from oversight.extensions import db
    from oversight.models import (
        Assignment,
        AuditEvent,
        Callback,
        CompletionRecord,
        Contract,
        DrawItem,
        QuarterlyReview,
        RectificationNotice,
        SamplingDraw,
        SpotCheck,
        Subject,
    )
    from oversight.services.audit import Actor, reset_actor, set_actor
    from seeds.demo import DEFAULT_SEED, build_demo

    today = date.today()
    clock = Clock()
    print(f"Building the bench database on {kind} ({database_url(kind)}), load average {load_average()}", flush=True)
    create_empty(kind)
    app = bench_app(kind)
    with app.app_context():
        upgrade()
        clock.step("schema (migrations)")
        build_demo(scale, seed or DEFAULT_SEED, today)
        clock.step(f"seed-demo --scale {scale}")
        token = set_actor(Actor(None, "bench-history"))
        history = History(seed or DEFAULT_SEED, today, records, checked_quarters, clock, scale)
        try:
            history.load()
            history.records += history.visits_of(history.contracts)
            db.session.commit()
            clock.step(f"visits of the demo's assignments: {history.records:,} records")
            while history.records < records:
                history.years += 1
                contracts = history.earlier_year(history.years)
                history.records += history.visits_of(contracts)
                db.session.commit()
                clock.step(f"year -{history.years}: {', '.join(c.code for c in contracts)}; "
                           f"{history.records:,} records so far")
        finally:
            reset_actor(token)
        quarters = history.checked_quarters_list()
        for quarter in quarters:
            made = history.check_quarter(quarter, newest=quarter == quarters[-1])
            clock.step(f"{quarter}: {made['draws']} draws, {made['checks']} re-checks, "
                       f"{made['callbacks']} callbacks answered, {made['reviews']} reviews")
        if kind == "postgresql":
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        clock.step("ANALYZE")
        counts = {model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
                  for model in (Subject, Contract, Assignment, CompletionRecord, SamplingDraw, DrawItem, SpotCheck,
                                RectificationNotice, Callback, QuarterlyReview, AuditEvent)}
    print(f"Built in {clock.total:.0f} s: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print(f"  {history.years} earlier years of contracts; checked quarters {quarters[0]}–{quarters[-1]}; "
          f"load average {load_average()}")
    if kind == "sqlite":
        size = (instance_path(kind) / "oversight.sqlite").stat().st_size
        print(f"  SQLite file {size / 1e6:,.0f} MB")


def add_missing_indexes(kind: str) -> list[str]:
    """Create the models' indexes that the bench database lacks (while tuning, before the migration
    is regenerated); returns their names."""
    from sqlalchemy import inspect, text

    from oversight.extensions import db

    app = bench_app(kind)
    made = []
    with app.app_context():
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {index["name"] for index in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in present:
                    index.create(db.engine)
                    made.append(index.name)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build", "drop", "indexes"))
    parser.add_argument("--db", choices=KINDS, default="sqlite")
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS,
                        help="add earlier years until the completion records reach this many")
    parser.add_argument("--checked-quarters", type=int, default=DEFAULT_CHECKED_QUARTERS,
                        help="quarters (newest finished first) with draws, re-checks, callbacks and reviews")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--scale", choices=("city", "small-city"), default="city",
                        help="the demo the history is added to (small-city: a quick trial of the build)")
    args = parser.parse_args()
    if args.action == "build":
        build(args.db, args.records, args.seed, args.checked_quarters, args.scale)
    elif args.action == "drop":
        drop(args.db)
        print(f"Dropped the {args.db} bench database")
    else:
        made = add_missing_indexes(args.db)
        print("Created " + (", ".join(made) if made else "nothing: every model index exists"))


if __name__ == "__main__":
    main()
