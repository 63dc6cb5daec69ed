"""A year of completion records: the monthly logs each contractor would have uploaded.

Each contract's visits are planned from its assignments (one per survey or assessment, the
required number on distinct days for a care visit, a first visit for some care visits still
open), given a worker, a time slot and the service's values, written as the template's cells,
checked by the real validation (`validate_log`) and flagged by the real detectors
(`anomaly_flags`). A few visits are made anomalous on purpose, as a careless worker would: a
visit of a few minutes, two visits at once, coordinates from the office, copied survey answers.
"""
from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import select

from oversight.adapters.tables.cells import EXCEL_ROW
from oversight.clock import local_day
from oversight.domain import self_care
from oversight.domain.anomalies import AnomalyContext, anomaly_flags
from oversight.domain.completion_log import CARE_ITEMS, INCOME_PARTS, TEMPLATE_COLUMNS, LogContext, validate_log
from oversight.domain.money import fen_to_yuan
from oversight.domain.vocabulary import ServiceType, label_of
from oversight.extensions import db
from oversight.models import Assignment, Contract, FieldWorker, LocalStandard, Subject
from oversight.services.completion_places import TOWNSHIP_CENTRES

from .identities import Weighted
from .schedule import ONE_DAY

SURVEY, ASSESSMENT, CARE = "household_survey", "self_care_assessment", "care_visit"
# (shortest, longest, most usual) minutes of a visit
_MINUTES = {SURVEY: (35, 90, 55), ASSESSMENT: (30, 60, 40), CARE: (40, 120, 60)}
_DAY_START, _DAY_END, _LUNCH = 8 * 60, 17 * 60 + 30, (11 * 60 + 45, 13 * 60 + 30)
_OFFICE = "城市社区管委会"  # where every contractor keeps its office, in the county seat
_HEADERS = {service: {column.key: column.header for column in columns}
            for service, columns in TEMPLATE_COLUMNS.items()}
# Items lost first as a person's condition worsens (bathing first, eating last).
LOSS_ORDER = ("bathing", "dressing", "toileting", "walking", "transfer", "eating")
_CARE_BY_NEED = {
    self_care.CONCLUSION_FULL: Weighted((("精神慰藉", 30), ("人文关怀", 25), ("心理疏导", 15), ("社会融入", 15),
                                         ("能力提升", 10), ("环境适应", 5))),
    self_care.CONCLUSION_PARTIAL: Weighted((("日常看护", 35), ("生活照料", 35), ("精神慰藉", 15), ("人文关怀", 10),
                                            ("送医陪护", 5))),
    self_care.CONCLUSION_NONE: Weighted((("生活照料", 45), ("日常看护", 35), ("送医陪护", 10), ("精神慰藉", 10))),
}
_REMARKS = {
    SURVEY: ("家庭成员在外务工，收入由户主口述", "已核对银行流水", "户主患慢性病，医疗支出较大", "子女在读高中"),
    ASSESSMENT: ("由家属协助完成评估", "对象行走需借助拐杖", "对象听力较差，沟通较慢"),
    CARE: ("对象血压偏高，已提醒家属带其复诊", "协助打扫室内卫生", "代购米油等生活用品", "陪同对象到卫生院取药"),
}
_SHARE_WITH_REMARK = 0.06
# Office coordinates logged for a home further than this are sure to be flagged (the flag is at 15 km).
_FAR_KM = 20


@dataclass(frozen=True)
class Worker:
    id: int
    no: str
    name: str


@dataclass
class Visit:
    """One visit to be written as a row of a log."""

    assignment_id: int
    number: str
    service_type: str
    subject: object  # the assignment's row: subject fields included
    day: date
    worker: Worker
    minutes: int
    start: int = 0  # minute of the day
    place: tuple[float, float] | None = None
    cells: dict[str, str] = field(default_factory=dict)  # the service's own cells, by record key
    remark: str = ""

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True)
class LogBatch:
    """One month's log of one service of a contract: its file, its records, when it was sent."""

    contract: Contract
    service_type: str
    month: date
    uploaded_at: datetime  # county time
    filename: str
    content: bytes
    records: list[dict]
    flagged: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _lay_out(shift: list[Visit], travel: list[int], minute: int, lunch_delay: int | None) -> None:
    """Start times one after another; a visit that would run into lunch waits until after it
    (no lunch break when `lunch_delay` is None)."""
    for visit, gap in zip(shift, travel):
        if lunch_delay is not None and (_LUNCH[0] <= minute < _LUNCH[1]
                                        or minute < _LUNCH[0] < minute + visit.minutes - 15):
            minute = _LUNCH[1] + lunch_delay
        visit.start = minute
        minute = visit.end + gap


def whole_yuan(fen: float) -> int:
    """An amount rounded to whole yuan, in fen."""
    return round(fen / 100) * 100


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _yuan(fen: int | None) -> str:
    return "" if fen is None else str(fen_to_yuan(fen))


def _birth_year(id_number: str) -> int:
    return int(id_number[6:10])


class ContractLogs:
    """Plans, writes, checks and flags a year of one contract's visits; `batches()` gives the logs."""

    def __init__(self, contract: Contract, short_name: str, errors: float, rng: random.Random, today: date,
                 office: str = _OFFICE):
        self.contract, self.short_name, self.errors, self.rng, self.today = contract, short_name, errors, rng, today
        self.office = office  # the township of the contractor's office
        self.rows = db.session.execute(
            select(Assignment.id, Assignment.number, Assignment.service_type, Assignment.status,
                   Assignment.due_date, Assignment.required_visits, Assignment.completed_at, Assignment.created_at,
                   Subject.id.label("subject_id"), Subject.name, Subject.id_number, Subject.township,
                   Subject.village, Subject.household_size, Subject.category)
            .join(Subject, Assignment.subject_id == Subject.id)
            .where(Assignment.contract_id == contract.id).order_by(Assignment.id)).all()
        self.workers = [Worker(*row) for row in db.session.execute(
            select(FieldWorker.id, FieldWorker.worker_no, FieldWorker.name)
            .where(FieldWorker.contractor_id == contract.contractor_id, FieldWorker.active)
            .order_by(FieldWorker.worker_no))]
        self.lines = dict(db.session.execute(select(LocalStandard.year, LocalStandard.poverty_line_fen).where(
            LocalStandard.county_id == contract.county_id)).all())
        self.regular = self._regular_workers()
        # A careless worker, whose logs carry most of the anomalies.
        self.careless = self.rng.choice(self.workers)
        self.severity: dict[int, int] = {}
        self.care_items: dict[int, list[str]] = {}
        self.visits = self._plan()

    # --- planning -------------------------------------------------------------------------

    def _regular_workers(self) -> dict[int, Worker]:
        """Each subject's usual worker: the subjects by township and village, split in even runs."""
        subjects = sorted({(row.township, row.village, row.subject_id) for row in self.rows})
        size = -(-len(subjects) // len(self.workers))
        return {subject_id: self.workers[position // size]
                for position, (_, _, subject_id) in enumerate(subjects)}

    def _plan(self) -> list[Visit]:
        visits = []
        for row in self.rows:
            for day in self._visit_days(row):
                worker = self.regular[row.subject_id]
                if self.rng.random() < 0.08:  # a colleague covers a day off
                    worker = self.rng.choice(self.workers)
                visits.append(Visit(row.id, row.number, row.service_type, row, day, worker,
                                    round(self.rng.triangular(*_MINUTES[row.service_type]))))
        visits.sort(key=lambda visit: (visit.day, visit.assignment_id))
        # Assessments first: a person's care follows from what the assessments found.
        for visit in sorted(visits, key=lambda visit: visit.service_type == CARE):
            {SURVEY: self._survey, ASSESSMENT: self._assessment, CARE: self._care}[visit.service_type](visit)
            if not visit.remark and self.rng.random() < _SHARE_WITH_REMARK:
                visit.remark = self.rng.choice(_REMARKS[visit.service_type])
        self._place(visits)
        self._slot(visits)
        self._make_anomalies(visits)
        return visits

    def _visit_days(self, row) -> list[date]:
        """The days of the assignment's visits: all of them when completed, else maybe a first one."""
        issue = local_day(row.created_at)
        rng = self.rng
        if row.status == "completed":
            last = local_day(row.completed_at)
            if row.required_visits == 1:
                return [last]
            span = (min(last - ONE_DAY, row.due_date) - issue).days + 1
            return [issue + timedelta(days=offset)
                    for offset in sorted(rng.sample(range(span), row.required_visits - 1))] + [last]
        if row.service_type != CARE or row.status == "cancelled":
            return []
        end = min(row.due_date, self.today - ONE_DAY)
        if end < issue:
            return []
        started = 0.5 if row.status == "overdue" else 0.8 * ((end - issue).days + 1) / ((row.due_date - issue).days + 1)
        return [issue + timedelta(days=rng.randint(0, (end - issue).days))] if rng.random() < started else []

    # --- the services' own values ---------------------------------------------------------

    def _survey(self, visit: Visit) -> None:
        rng, subject = self.rng, visit.subject
        size = subject.household_size
        if rng.random() < 0.05:  # someone moved in or out since registration
            size = max(1, size + rng.choice((-1, 1)))
        line = self.lines[visit.day.year]
        ratio = {"低保": (0.25, 1.05, 0.7), "低保边缘": (0.95, 1.6, 1.25)}.get(subject.category, (1.1, 2.6, 1.6))
        ratio = rng.triangular(*ratio)
        income = whole_yuan(ratio * line * 12 * size)
        assets = whole_yuan(rng.lognormvariate(8.0 if subject.category == "低保" else 9.6, 0.9) * 100)
        conclusion = "符合" if ratio < 1 else "不符合"
        if abs(ratio - 1) < 0.05 and rng.random() < 0.3:
            conclusion = "需复核"
        elif rng.random() < self.errors / 10:  # a worker's slip: the conclusion does not follow the income
            conclusion = "符合" if conclusion == "不符合" else conclusion
        if conclusion == "符合" and ratio < 0.5 and rng.random() < 0.05:
            conclusion, assets = "不符合", rng.randrange(300_000, 800_000, 1000) * 100
            visit.remark = "家庭金融资产超过规定标准，不符合条件"
        cells = {"household_size": str(size), "annual_income_fen": _yuan(income),
                 "financial_assets_fen": _yuan(assets), "survey_conclusion": conclusion,
                 "property_count": str(Weighted(((0, 10), (1, 80), (2, 10))).pick(rng)),
                 "vehicle_count": str(int(rng.random() < (0.08 if subject.category == "低保" else 0.25)))}
        if rng.random() < 0.7:
            cells.update(self._income_parts(income, subject.category))
        if rng.random() < 0.1:
            cells["property_count"] = cells["vehicle_count"] = ""
        visit.cells = cells

    def _income_parts(self, income: int, category: str) -> dict[str, str]:
        """The income split into its parts; they add up to the total exactly."""
        rng = self.rng
        transfer = whole_yuan(income * rng.uniform(*{"低保": (0.3, 0.6)}.get(category, (0.05, 0.25))))
        business = whole_yuan(income * rng.uniform(-0.05, 0.25))
        property_income = whole_yuan(income * rng.uniform(0, 0.05)) if rng.random() < 0.1 else 0
        other = whole_yuan(income * rng.uniform(0, 0.05))
        wage = income - transfer - business - property_income - other
        if wage < 0:
            transfer, wage = transfer + wage, 0
        parts = dict(zip((column.key for column in INCOME_PARTS), (wage, business, property_income, transfer, other)))
        return {key: _yuan(value) for key, value in parts.items()}

    def _assessment(self, visit: Visit) -> None:
        """Six items from the person's condition; a re-assessment finds it worse."""
        person = visit.subject.subject_id
        if person in self.severity:
            self.severity[person] = min(len(LOSS_ORDER), self.severity[person] + self.rng.randint(1, 2))
        else:
            self.severity[person] = self._first_severity(visit.day.year - _birth_year(visit.subject.id_number))
        lost = list(LOSS_ORDER[:self.severity[person]])
        if lost and len(lost) < len(LOSS_ORDER) and self.rng.random() < 0.2:
            lost[-1] = LOSS_ORDER[len(lost)]  # people differ in which item goes first
        met = {key: key not in lost for key in self_care.ITEM_KEYS}
        visit.cells = {**{key: "能" if met[key] else "不能" for key in self_care.ITEM_KEYS},
                       "conclusion": self_care.assess(met).conclusion}

    def _first_severity(self, age: int) -> int:
        rng = self.rng
        independent = 0.7 if age < 70 else 0.5 if age < 85 else 0.25
        if rng.random() < independent:
            return 0
        return rng.randint(1, 3) if rng.random() < 0.6 else rng.randint(4, 6)

    def _care(self, visit: Visit) -> None:
        """The person's usual items, now and then one more or one fewer; signed nearly always."""
        person = visit.subject.subject_id
        if person not in self.care_items:
            need = self_care.conclusion_for_fails(self.severity.get(person, 0))
            self.care_items[person] = sorted({_CARE_BY_NEED[need].pick(self.rng) for _ in range(3)},
                                             key=CARE_ITEMS.index)
        items = list(self.care_items[person])
        roll = self.rng.random()
        if roll < 0.15 and len(items) > 1:
            items.remove(self.rng.choice(items))
        elif roll < 0.3:
            extra = self.rng.choice(CARE_ITEMS)
            items = sorted(set(items) | {extra}, key=CARE_ITEMS.index)
        visit.cells = {"care_items": "、".join(items), "signed": "否" if self.rng.random() < 0.01 else "是"}

    # --- where and when -------------------------------------------------------------------

    def _place(self, visits: list[Visit]) -> None:
        """Coordinates of each home near its township's centre; some workers' phones record none."""
        without_gps = {worker.no for worker in self.workers[::6]}
        villages: dict[tuple[str, str], tuple[float, float]] = {}
        homes: dict[int, tuple[float, float]] = {}
        for visit in visits:
            if visit.worker.no in without_gps:
                continue
            subject = visit.subject
            if subject.subject_id not in homes:
                where = (subject.township, subject.village)
                if where not in villages:
                    # Where a village lies does not depend on the demo's seed.
                    place = random.Random(f"place:{subject.township}:{subject.village}")
                    centre = TOWNSHIP_CENTRES[subject.township]
                    villages[where] = (centre[0] + place.uniform(-0.05, 0.05), centre[1] + place.uniform(-0.04, 0.04))
                village = villages[where]
                homes[subject.subject_id] = (village[0] + self.rng.uniform(-0.006, 0.006),
                                             village[1] + self.rng.uniform(-0.005, 0.005))
            home = homes[subject.subject_id]
            visit.place = (home[0] + self.rng.uniform(-3e-4, 3e-4), home[1] + self.rng.uniform(-3e-4, 3e-4))

    def _slot(self, visits: list[Visit]) -> None:
        """Each worker's visits of a day one after another, village by village, with a lunch break;
        a long day starts at eight, with shorter visits and, if need be, no lunch break."""
        shifts: dict[tuple[str, date], list[Visit]] = defaultdict(list)
        for visit in visits:
            shifts[visit.worker.no, visit.day].append(visit)
        for _, shift in sorted(shifts.items()):
            shift.sort(key=lambda visit: (visit.subject.township, visit.subject.village, visit.assignment_id))
            travel = [self._travel(here, there) for here, there in zip(shift, shift[1:])] + [0]
            _lay_out(shift, travel, _DAY_START + self.rng.randint(0, 40), self.rng.randint(0, 20))
            overflow = shift[-1].end - _DAY_END
            if overflow > 0:
                spare = sum(visit.minutes - _MINUTES[visit.service_type][0] for visit in shift)
                for visit in shift:
                    visit.minutes -= (visit.minutes - _MINUTES[visit.service_type][0]) * min(overflow, spare) // spare
                _lay_out(shift, travel, _DAY_START, 0)
            if shift[-1].end > _DAY_END:
                _lay_out(shift, travel, _DAY_START, None)

    def _travel(self, here: Visit, there: Visit) -> int:
        """Minutes from one home to the next: a short walk, or the road at about 35 km/h."""
        minutes = self.rng.randint(10, 25)
        if here.place and there.place:
            minutes = max(minutes, round(_km(here.place, there.place) / 35 * 60) + 5)
        return minutes

    def _make_anomalies(self, visits: list[Visit]) -> None:
        """What a careless worker does now and then, more often at a less reliable contractor."""
        rng = self.rng
        careless = [visit for visit in visits if visit.worker == self.careless]
        if not careless:
            return
        count = max(1, round(len(visits) * self.errors / 40))
        for visit in rng.sample(careless, min(count, len(careless))):
            visit.minutes = rng.randint(5, 8)  # stayed a few minutes
        by_day: dict[date, list[Visit]] = defaultdict(list)
        for visit in careless:
            by_day[visit.day].append(visit)
        busy = [sorted(day, key=lambda visit: visit.start) for _, day in sorted(by_day.items()) if len(day) > 1]
        for first, second in (day[:2] for day in rng.sample(busy, min(count, len(busy)))):
            second.start = first.start + first.minutes // 2  # logged from memory, at the wrong time
        office = TOWNSHIP_CENTRES[self.office]
        far = [visit for visit in careless
               if visit.place and _km(TOWNSHIP_CENTRES[visit.subject.township], office) > _FAR_KM]
        for visit in rng.sample(far, min(count, len(far))):
            visit.place = (office[0] + rng.uniform(-2e-3, 2e-3), office[1] + rng.uniform(-2e-3, 2e-3))
        evening = rng.choice(careless)
        evening.start, evening.minutes = 21 * 60 + rng.randint(20, 40), rng.randint(45, 60)  # ends after 22:00
        surveys = [visit for visit in careless if visit.service_type == SURVEY]
        for original, copy in zip(surveys[::2], rng.sample(surveys[1::2], min(count, len(surveys) // 2))):
            copy.cells = dict(original.cells)  # another household's answers pasted in
        for visit in rng.sample(careless, min(count, len(careless))):
            if visit.service_type == CARE:
                visit.cells["signed"] = "否"

    # --- the logs -------------------------------------------------------------------------

    def _table(self, visits: list[Visit], service_type: str) -> pd.DataFrame:
        """The visits as the template's text cells; the index counts Excel rows across the year."""
        headers = _HEADERS[service_type]
        rows = []
        for visit in visits:
            subject = visit.subject
            cells = {"number": visit.number, "subject_name": subject.name, "id_number": subject.id_number,
                     "service_date": visit.day.isoformat(), "start_time": _clock(visit.start),
                     "end_time": _clock(visit.end), "worker_no": visit.worker.no, "worker_name": visit.worker.name,
                     "longitude": f"{visit.place[0]:.6f}" if visit.place else "",
                     "latitude": f"{visit.place[1]:.6f}" if visit.place else "",
                     **visit.cells, "remark": visit.remark}
            rows.append({headers[key]: cells.get(key, "") for key in headers})
        table = pd.DataFrame(rows, columns=list(headers.values()), dtype=object)
        table.index = pd.RangeIndex(2, len(rows) + 2, name=EXCEL_ROW)
        return table

    def _context(self, service_type: str) -> LogContext:
        assignments = pd.DataFrame(
            [(row.number, row.id, row.name, row.id_number, row.service_type, row.status, row.township)
             for row in self.rows],
            columns=["number", "assignment_id", "subject_name", "id_number", "service_type", "status", "township"])
        workers = pd.DataFrame([(worker.no, worker.name) for worker in self.workers], columns=["worker_no", "name"])
        existing = pd.DataFrame({"assignment_id": [], "service_date": [], "start_time": []})
        return LogContext(service_type, self.contract.term_start, self.contract.term_end, self.today, assignments,
                          workers, existing)

    def batches(self) -> Iterable[LogBatch]:
        """The logs, a file per service and month, with their records ready to insert."""
        checked = {}
        for service_type in sorted({visit.service_type for visit in self.visits}):
            visits = [visit for visit in self.visits if visit.service_type == service_type]
            visits.sort(key=lambda visit: (visit.day, visit.start, visit.number))
            table = self._table(visits, service_type)
            ctx = self._context(service_type)
            validation = validate_log(table, ctx)
            if not validation.accepted:
                raise RuntimeError(f"demo log of {self.contract.code} {service_type} refused: {validation.errors[:5]}")
            checked[service_type] = (visits, table, validation.records, ctx)
        for service_type, (visits, table, records, ctx) in checked.items():
            others = [frame for other, (_, _, frame, _) in checked.items() if other != service_type]
            flags = self._flags(records, ctx, others)
            yield from self._monthly(service_type, visits, table, records, flags)

    def _flags(self, records: pd.DataFrame, ctx: LogContext, others: list[pd.DataFrame]) -> pd.Series:
        """Each record's flags, as the import computes them, by year (the 低保标准 changes yearly)."""
        columns = ["worker_no", "service_date", "start_time", "end_time"]
        existing = pd.concat([frame[columns] for frame in others]) if others else None
        first = {}
        if ctx.service_type == ASSESSMENT:
            for id_number, conclusion in zip(ctx.assignments.set_index("assignment_id")
                                             .loc[records["assignment_id"], "id_number"], records["conclusion"]):
                first.setdefault(id_number, conclusion)
        years = records["service_date"].map(lambda day: day.year)
        parts = [anomaly_flags(records[years == year], AnomalyContext(
            ctx.assignments[["assignment_id", "id_number", "township"]], existing, TOWNSHIP_CENTRES,
            self.lines[year], first)) for year in sorted(set(years))]
        return pd.concat(parts).reindex(records.index)

    def _monthly(self, service_type, visits, table, records, flags) -> Iterable[LogBatch]:
        workers = {worker.no: worker.id for worker in self.workers}
        rows = _python_rows(records.drop(columns=["worker_no"]))
        for row, worker_no, found in zip(rows, records["worker_no"].tolist(), flags.tolist()):
            row.update(worker_id=workers[worker_no], anomaly_flags=[flag.as_dict() for flag in found],
                       flagged=bool(found), contract_id=self.contract.id, county_id=self.contract.county_id,
                       service_type=service_type)
        months: dict[date, list[int]] = defaultdict(list)
        for position, visit in enumerate(visits):
            months[visit.day.replace(day=1)].append(position)
        for month, positions in sorted(months.items()):
            batch = [rows[position] for position in positions]
            for excel_row, row in enumerate(batch, start=2):
                row["excel_row"] = excel_row
            last = max((visits[position] for position in positions), key=lambda visit: (visit.day, visit.end))
            yield LogBatch(
                self.contract, service_type, month,
                datetime.combine(last.day, datetime.min.time()) + timedelta(minutes=max(last.end, 17 * 60) + 40),
                f"{self.short_name}{label_of(ServiceType, service_type)}服务记录{month:%Y年%m月}.csv",
                table.iloc[positions].to_csv(index=False).encode("utf-8-sig"), batch,
                sum(row["flagged"] for row in batch))


def _km(here: tuple[float, float], there: tuple[float, float]) -> float:
    """Distance in km between two (longitude, latitude) points a few dozen km apart (flat-earth)."""
    dx = (here[0] - there[0]) * 111.3 * math.cos(math.radians(here[1]))
    return math.hypot(dx, (here[1] - there[1]) * 111.2)


def _python_rows(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as dicts of plain Python values (None for missing), for the driver."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biu" and not column.hasnans:
            columns[name] = column.tolist()
        else:
            columns[name] = column.to_numpy(dtype=object, na_value=None).tolist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())]
