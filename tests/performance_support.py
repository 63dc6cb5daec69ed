"""Builders for the review and evaluation tests: a contract's quarter of evidence with hand-computable figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from oversight.domain.comparison import FieldComparison
from oversight.domain.figures import ReviewFigures, SchemeRef
from oversight.extensions import db
from oversight.models import (
    Assignment,
    Callback,
    CompletionRecord,
    Contract,
    DrawItem,
    FieldWorker,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
    Subject,
    User,
)

from tests.factories import valid_id_number

_serial = iter(range(10_000, 10**9))


@dataclass
class QuarterData:
    """What `build_quarter` made, for the assertions."""

    assignments: list[Assignment] = field(default_factory=list)
    checks: list[SpotCheck] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    notices: list[RectificationNotice] = field(default_factory=list)


def _assignment(contract: Contract, due: date, status: str, completed_at: datetime | None) -> Assignment:
    n = next(_serial)
    subject = Subject(county_id=contract.county_id, kind="household", name=f"对象{n}", id_number=valid_id_number(n, area="360722"),
                      township="梅林镇", village="梅林村", category="低保", phone="13812340000", household_size=3)
    assignment = Assignment(number=f"RW-P-{n:07d}", contract=contract, subject=subject,
                            service_type="household_survey", due_date=due, status=status, completed_at=completed_at)
    db.session.add_all([subject, assignment])
    return assignment


def _record(assignment: Assignment, worker: FieldWorker, day: date) -> CompletionRecord:
    record = CompletionRecord(
        assignment=assignment, contract_id=assignment.contract.id, service_type="household_survey",
        service_date=day, start_time="09:00", end_time="09:45", duration_minutes=45, worker_id=worker.id,
        household_size=3, annual_income_fen=2_400_000, financial_assets_fen=500_000, survey_conclusion="符合")
    db.session.add(record)
    return record


def _draw(contract: Contract, quarter: str, purpose: str, records: list[CompletionRecord],
          targeted: set[int] = frozenset()) -> SamplingDraw:
    """A draw whose stored rule (a 100 % share) re-computes to exactly these records."""
    db.session.flush()
    population = [[record.id, record.worker.worker_no, False, position in targeted]
                  for position, record in enumerate(records)]
    draw = SamplingDraw(purpose=purpose, quarter=quarter, contract=contract, service_type="household_survey",
                        rule={"rule": "share", "share": "1", "floor": 5}, plan={"kind": "share"}, seed="test",
                        population=sorted(population), population_sha256="0" * 64)
    db.session.add(draw)
    return draw


def _comparison(compared: int, differing: int) -> dict:
    """A stored comparison of `compared` non-critical fields, the first `differing` of them different."""
    fields = [FieldComparison(f"field{i}", f"字段{i}", 1, 2 if i < differing else 1, i >= differing, False, "").as_dict()
              for i in range(compared)]
    return {"service_type": "household_survey", "fields": fields}


def build_quarter(contract: Contract, checker: User, *, start: date = date(2025, 7, 1), quarter: str = "2025Q3",
                  with_checks: bool = True) -> QuarterData:
    """The quarter of the hand-computed tests (each count below is what a test's arithmetic uses).

    Assignments due in the quarter: 50 — 40 completed on time, 5 completed late, 5 still open;
    2 cancelled and 3 due the quarter before do not count.
    Spot checks: 20 random (18 pass; 6 of their 200 fields differ) and 1 targeted (fails, 5 of 10
    fields differ) that does not count. Callbacks: 10 answered with satisfaction
    5,5,4,4,4,3,3,2,1,5 and 9 confirming the service; 1 unreachable. Rectification notices for the
    3 failed checks, deadlines in the quarter: 2 closed by the deadline, 1 still open.
    """
    worker = db.session.execute(db.select(FieldWorker).where(FieldWorker.contractor_id == contract.contractor_id)
                                .order_by(FieldWorker.id)).scalars().first()
    data = QuarterData()
    due = start + timedelta(days=40)
    for i in range(50):
        if i < 40:
            status, done = "completed", datetime.combine(due - timedelta(days=1), datetime.min.time())
        elif i < 45:
            status, done = "completed", datetime.combine(due + timedelta(days=3), datetime.min.time())
        else:
            status, done = "assigned", None
        data.assignments.append(_assignment(contract, due, status, done))
    for _ in range(2):
        _assignment(contract, due, "cancelled", None)
    for _ in range(3):
        _assignment(contract, start - timedelta(days=5), "completed", datetime.combine(start, datetime.min.time()))
    if not with_checks:
        db.session.commit()
        return data

    checked = [_record(data.assignments[i], worker, due - timedelta(days=2)) for i in range(21)]
    spot_draw = _draw(contract, quarter, "spot_check", checked, targeted={20})
    differing = [1, 1, 1, 1, 2] + [0] * 15
    for i, record in enumerate(checked):
        targeted = i == 20
        item = DrawItem(draw=spot_draw, record=record, stratum="targeted" if targeted else "random", position=i)
        different = 5 if targeted else differing[i]
        check = SpotCheck(draw_item=item, record=record, contract_id=contract.id, checker_id=checker.id,
                          method="入户复核", checked_on=due, values={}, comparison=_comparison(10, different),
                          fields_compared=10, fields_differing=different, passed=not targeted and i not in (0, 4))
        db.session.add_all([item, check])
        data.checks.append(check)
    satisfaction = [5, 5, 4, 4, 4, 3, 3, 2, 1, 5]
    called_records = [_record(data.assignments[21 + i], worker, due) for i in range(11)]
    callback_draw = _draw(contract, quarter, "callback", called_records)
    called = [(data.assignments[21 + i], DrawItem(draw=callback_draw, stratum="random", position=i, record=record))
              for i, record in enumerate(called_records)]
    db.session.add_all([item for _, item in called])
    db.session.flush()
    for i, (assignment, item) in enumerate(called):
        answered = i < 10
        callback = Callback(draw_item_id=item.id, record_id=item.record.id, subject_id=assignment.subject.id,
                            contract_id=contract.id, status="answered" if answered else "unreachable",
                            satisfaction=satisfaction[i] if answered else None,
                            service_confirmed=(i != 3) if answered else None)
        db.session.add(callback)
        data.callbacks.append(callback)
    db.session.flush()
    failed = [check for check in data.checks if not check.passed]
    deadline = due + timedelta(days=20)
    # Closed at 09:00 UTC, 17:00 in the county: the deadline day itself still counts.
    for check, closed in zip(failed, (deadline, deadline - timedelta(days=5), None)):
        notice = RectificationNotice(spot_check=check, contract_id=contract.id, issued_by_id=checker.id,
                                     deadline=deadline, requirement="重新入户核实",
                                     status="closed" if closed else "open", outcome="accepted" if closed else None,
                                     closed_at=datetime.combine(closed, datetime.min.time()) + timedelta(hours=9)
                                     if closed else None)
        db.session.add(notice)
        data.notices.append(notice)
    db.session.commit()
    return data


def figures_with_total(quarter: str, total_centi: int, completed_volume: int = 0) -> ReviewFigures:
    """Figures for a review stored directly with only a total (no indicators), for tests of what reads totals."""
    total = Decimal(total_centi).scaleb(-2)
    return ReviewFigures(quarter=quarter, scheme=SchemeRef("default", 1, "默认考核方案"), indicators=(),
                         manual_items=(), manual_total=Decimal("0.00"), indicator_total=total, raw_total=total,
                         total=total, rating="-", completed_volume=completed_volume)
