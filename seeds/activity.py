"""The demo's year of work, replayed through the real services in time order.

The contractors upload a log per service and month; after each finished quarter the supervisor
draws the spot checks and callbacks (`make_draws`, with a seed derived from the demo's), the two
supervisors re-check the drawn records, failures get rectification notices that the contractor
answers and the supervisor closes, the callbacks are made, and the quarter is scored, published,
commented on, settled where disputed and approved — the newest finished quarter stays a draft.
Every step runs as its user (the audit actor) at its moment (`replayed_at`), so that the records,
their timestamps and the audit log read like a year of real use. Nothing happens on or after
`today`, except the newest quarter's draws and draft when the quarter ended only just now.
"""
from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from oversight.adapters.files import uploads_store
from oversight.clock import BUREAU_UTC_OFFSET, replayed_at, utcnow
from oversight.domain import self_care
from oversight.domain.periods import Quarter, quarter_of
from oversight.extensions import db
from oversight.models import Callback, CompletionRecord, Contract, DrawItem, QuarterlyReview, UploadBatch, User
from oversight.services import corrections
from oversight.services.audit import Actor, record_event, reset_actor, set_actor
from oversight.services.callbacks import (
    CONNECTED,
    call_list,
    file_complaint,
    record_answers,
    record_attempt,
    reveal_phone,
)
from oversight.services.completion_import import LOG_FOLDER
from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws
from oversight.services.evaluations import compute_evaluation, quarter_standings
from oversight.services.reviews import add_manual_item, approve, comment, publish, score_quarter_reviews, settle
from oversight.services.spot_checks import (
    assign_items,
    close_notice,
    issue_notice,
    record_spot_check,
    respond_notice,
)

from .evidence import import_demo_evidence
from .records import ASSESSMENT, CARE, LOSS_ORDER, SURVEY, ContractLogs, LogBatch, whole_yuan
from .schedule import ONE_DAY, Profile, WorkCalendar

NOTICE_DAYS = 15
CHECK_DAYS = 20  # working days the supervisors take to re-check a quarter's sample
DONE_SO_FAR = 0.8  # the share of the newest quarter's re-checks and calls done so far
REVIEW_AFTER_DAYS = 45  # calendar days after the quarter: its checks and callbacks are done
CORRECTION_DAYS_AGO = 8  # the demo's correction requests were made about a week ago
_SATISFACTION = {True: ((5, 55), (4, 35), (3, 8), (2, 2)), False: ((5, 35), (4, 40), (3, 17), (2, 6), (1, 2))}
_ANSWERERS = {"household": (("self", 80), ("family", 17), ("other", 3)),
              "person": (("self", 45), ("family", 48), ("other", 7))}
_ATTITUDES = {5: "热情周到", 4: "较好", 3: "一般", 2: "较差", 1: "较差"}
_COMPLAINTS = ("服务人员上门时间很短，没说几句话就走了", "约好的时间没来，打电话也不接",
               "服务人员态度生硬，不耐烦")
_CHECK_NOTES = {
    SURVEY: "复核发现该户家庭收入与上报明显不符，调查结论有误",
    ASSESSMENT: "复核时对象的自理状况与上报评估不一致",
    CARE: "对象及邻居均表示当天无人上门服务",
}
_REQUIREMENTS = {
    SURVEY: "请重新入户核实该户家庭收入和财产状况，更正调查结论，并提交整改说明及佐证材料。",
    ASSESSMENT: "请重新组织评估，更正评估结论，并说明原评估出现偏差的原因。",
    CARE: "请核实该次服务是否实际发生，提交服务人员情况说明；未发生的，撤回该条服务记录并对相关人员进行培训。",
}
_RESPONSES = {
    SURVEY: "已安排两名服务人员重新入户核实，更正了家庭收入和调查结论，并对原调查人员进行了批评教育。",
    ASSESSMENT: "已重新组织评估并更正评估结论，原评估人员已参加评估标准复训。",
    CARE: "经核实该次服务未按要求完成，已撤回该条记录并补做服务，对相关服务人员进行了通报批评和培训。",
}
_DISAGREEMENT = "本季度部分逾期任务系服务对象住院、外出务工无法上门所致，已提供住院证明等材料，请予以考虑。"
_SETTLEMENT = ("经核实，其中部分逾期确因对象住院无法上门，酌情加1分；其余理由不予支持。", "1")
_MANUAL_ITEM = ("1", "按时报送季度服务工作总结，服务台账资料齐全")
_WALK_IN = "服务对象家属来局反映：服务人员多次未按约定时间上门，上门后停留时间很短。"


@dataclass(frozen=True)
class Party:
    """A contract with its contractor's user, how reliably the contractor works, and its logs."""

    contract: Contract
    user: User
    profile: Profile
    logs: ContractLogs


class Timeline:
    """Steps to run in time order, each as its user at its moment (county time)."""

    def __init__(self, today: date, addresses: dict[int, str]):
        self.today, self.addresses = today, addresses
        self._steps: list = []
        self._order = itertools.count()

    def at(self, moment: datetime, user: User, step: Callable[[datetime], None], *, even_today: bool = False) -> None:
        """Run `step(moment)` as `user` at `moment`, unless that is still to come."""
        if moment.date() < self.today or (even_today and moment.date() == self.today):
            heapq.heappush(self._steps, (moment, next(self._order), user, step))

    def run(self) -> None:
        while self._steps:
            moment, _, user, step = heapq.heappop(self._steps)
            token = set_actor(Actor(user.id, user.username, self.addresses[user.id]))
            try:
                with replayed_at(moment - BUREAU_UTC_OFFSET):
                    step(moment)
            finally:
                reset_actor(token)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


class Activity:
    """One replay: the logs, then every finished quarter's checks, callbacks and review."""

    def __init__(self, parties: list[Party], staff: dict[str, User], seed: int, today: date, calendar: WorkCalendar,
                 rng: random.Random):
        self.parties, self.seed, self.today, self.calendar, self.rng = parties, seed, today, calendar, rng
        self.admin, self.supervisor, self.deputy = staff["admin"], staff["supervisor"], staff["supervisor2"]
        addresses = {user.id: f"10.36.21.{11 + index}" for index, user in enumerate(staff.values())}
        addresses.update({party.user.id: f"10.36.120.{21 + index}" for index, party in enumerate(parties)})
        self.timeline = Timeline(today, addresses)
        self.by_contract = {party.contract.id: party for party in parties}
        self.weakest = max(parties, key=lambda party: party.profile.errors)
        self.store = uploads_store()
        first = min(party.contract.term_start for party in parties)
        self.quarters = []
        quarter = quarter_of(first)
        while quarter.end < today:
            self.quarters.append(quarter)
            quarter = quarter.next()

    def run(self) -> None:
        for party in self.parties:
            for batch in party.logs.batches():
                self.timeline.at(batch.uploaded_at, party.user, lambda moment, batch=batch: self._upload(batch))
        for quarter in self.quarters:
            newest = quarter == self.quarters[-1]
            draw_day = self.calendar.add_working_days(quarter.end, 2)
            self.timeline.at(_at(min(draw_day, self.today), 9, 30), self.supervisor,
                             lambda moment, quarter=quarter: self._draw(quarter, moment), even_today=newest)
            review_day = self._working_day(quarter.end + timedelta(days=REVIEW_AFTER_DAYS))
            self.timeline.at(_at(min(review_day, self.today), 10), self.supervisor,
                             lambda moment, quarter=quarter: self._score(quarter, moment), even_today=newest)
        # Terms began nine months or more ago, so at least two quarters are finished.
        careless = self.weakest.logs.careless
        self.timeline.at(_at(self._working_day(self.quarters[-1].end - timedelta(days=25)), 15, 20),
                         self.supervisor, lambda moment: file_complaint(
                             self.weakest.contract, text=_WALK_IN, user=self.supervisor, worker_id=careless.id))
        # This month's verification data arrives after the last draw: its flags wait for the next one.
        self.timeline.at(_at(self.today, 10, 30), self.supervisor,
                         lambda moment: import_demo_evidence(self.supervisor, self.today, self.seed,
                                                              self.parties[0].contract.county_id),
                         even_today=True)
        self._plan_corrections()
        self.timeline.run()

    def _working_day(self, day: date) -> date:
        return day if self.calendar.is_working_day(day) else self.calendar.add_working_days(day, 1)

    def _later(self, day: date, low: int, high: int) -> date:
        return self.calendar.add_working_days(day, self.rng.randint(low, high))

    # --- logs ---------------------------------------------------------------------------------

    def _upload(self, batch: LogBatch) -> None:
        """What an accepted upload stores: the file, its batch, the records, one audit event."""
        path = self.store.put_content(LOG_FOLDER, batch.content, ".csv")  # where the upload keeps its files
        party = self.by_contract[batch.contract.id]
        now = utcnow()
        row = UploadBatch(contract_id=batch.contract.id, service_type=batch.service_type, filename=batch.filename,
                          sha256=batch.sha256, size_bytes=len(batch.content), stored_path=path,
                          uploaded_by_id=party.user.id, status="accepted", rows_total=len(batch.records),
                          rows_processed=len(batch.records), rows_accepted=len(batch.records),
                          finished_at=now + timedelta(seconds=2))
        db.session.add(row)
        db.session.flush()
        db.session.execute(insert(CompletionRecord.__table__), [
            {**record, "batch_id": row.id, "entered_by_id": party.user.id, "created_at": now}
            for record in batch.records])
        record_event("import", "CompletionRecord", None, {
            "batch": row.id, "contract": batch.contract.code, "service_type": batch.service_type,
            "filename": batch.filename, "sha256": batch.sha256, "rows": len(batch.records), "flagged": batch.flagged,
        })

    # --- draws, checks and callbacks ------------------------------------------------------------

    def _contracts_of(self, quarter: Quarter) -> list[Contract]:
        """This replay's contracts whose term overlaps the quarter, by code (another county's
        contracts in the same database are its own replay's)."""
        return sorted((party.contract for party in self.parties
                       if party.contract.term_start <= quarter.end and party.contract.term_end >= quarter.start),
                      key=lambda contract: contract.code)

    def _draw(self, quarter: Quarter, moment: datetime) -> None:
        seed = f"seed-demo {self.seed} {quarter}"
        spot_checks, callbacks = [], []
        for contract in self._contracts_of(quarter):
            spot_checks += make_draws(SPOT_CHECK, quarter, today=moment.date(), contract_id=contract.id,
                                      risk_weighted=True, seed=f"{seed} 抽查", user_id=self.supervisor.id).draws
        for contract in self._contracts_of(quarter):
            callbacks += make_draws(CALLBACK, quarter, today=moment.date(), contract_id=contract.id,
                                    seed=f"{seed} 回访", user_id=self.supervisor.id).draws
        plans = []
        for draw in spot_checks:
            for checker, items in ((self.supervisor, draw.items[::2]), (self.deputy, draw.items[1::2])):
                if items:
                    assign_items(draw, [item.id for item in items], checker)
                    plans.extend((checker, item) for item in items)
        self._plan_checks(quarter, moment.date(), plans)
        for draw in callbacks:
            for callback in db.session.execute(call_list(draw.id)).scalars():
                if quarter != self.quarters[-1] or self.rng.random() < DONE_SO_FAR:
                    self._plan_callback(callback, moment.date())

    def _plan_checks(self, quarter: Quarter, drawn_on: date, plans: list[tuple[User, DrawItem]]) -> None:
        """Each checker works through the items a few a day; a few records fail, one notice is ignored.
        Of the newest quarter, the deputy has a fifth of his share still to do."""
        outcomes, done_by = [], {}
        shares = Counter(checker.id for checker, _ in plans)
        for checker, item in plans:
            done = done_by[checker.id] = done_by.get(checker.id, 0) + 1
            if quarter == self.quarters[-1] and checker is self.deputy and done > DONE_SO_FAR * shares[checker.id]:
                continue
            day = self.calendar.add_working_days(drawn_on, 1 + (done - 1) * CHECK_DAYS // shares[checker.id])
            record, party = item.record, self.by_contract[item.draw.contract_id]
            failing = party.profile.errors * (3 if record.flagged else 1)
            roll = self.rng.random()
            outcome = "fail" if roll < failing else "minor" if roll < failing + 0.1 else "ok"
            outcomes.append([_at(day, self.rng.randint(9, 16), self.rng.randrange(0, 60, 5)), checker, item, outcome])
        done = sorted((plan for plan in outcomes if plan[0].date() < self.today), key=lambda plan: plan[0])
        if done and not any(plan[3] == "fail" for plan in done):
            weakest = [plan for plan in done if plan[2].draw.contract_id == self.weakest.contract.id] or done
            weakest[0][3] = "fail"
        ignored = quarter == self.quarters[-2]  # the contractor lets one notice of that quarter lapse
        for moment, checker, item, outcome in sorted(outcomes, key=lambda plan: plan[0]):
            overdue = ignored and outcome == "fail"
            ignored = ignored and not overdue
            self.timeline.at(moment, checker, lambda moment, item=item, checker=checker, outcome=outcome,
                             overdue=overdue: self._check(item, checker, outcome, overdue, moment))

    def _check(self, item: DrawItem, checker: User, outcome: str, overdue: bool, moment: datetime) -> None:
        record = item.record
        service = record.service_type
        method = ("电话核实" if self.rng.random() < 0.5 else "入户复核") if service == CARE else (
            "邻里走访" if self.rng.random() < 0.15 else "入户复核")
        values = _rechecked(record, outcome, self.rng)
        check = record_spot_check(item, checker=checker, method=method, checked_on=moment.date(), values=values,
                                  note=_CHECK_NOTES[service] if outcome == "fail" else None, uploads=[],
                                  store=self.store, today=moment.date())
        if check.passed:
            return
        notice = issue_notice(check, deadline=moment.date() + timedelta(days=NOTICE_DAYS),
                              requirement=_REQUIREMENTS[service], issuer=checker, today=moment.date())
        if overdue:
            return
        party = self.by_contract[record.contract_id]
        answered = self._later(moment.date(), 2, 8)
        if party is self.weakest and self.rng.random() < 0.3:
            answered = self._working_day(notice.deadline + timedelta(days=self.rng.randint(1, 5)))
        self.timeline.at(_at(answered, self.rng.randint(9, 17)), party.user, lambda _: respond_notice(
            notice, response=_RESPONSES[service], user=party.user))
        accepted = self.rng.random() < 0.9
        self.timeline.at(_at(self._later(answered, 1, 3), self.rng.randint(9, 17)), checker, lambda _: close_notice(
            notice, outcome="accepted" if accepted else "not_accepted", user=checker,
            note="整改材料齐全，予以认可" if accepted else "整改说明缺少佐证材料，不予认可"))

    def _plan_callback(self, callback: Callback, drawn_on: date) -> None:
        """Call on a working day; unanswered calls are tried again on the next ones, three times at most."""
        operator = self.deputy if self.rng.random() < 0.7 else self.supervisor
        day = self._later(drawn_on, 1, 12)
        self.timeline.at(_at(day, self.rng.randint(9, 16), self.rng.randrange(0, 60, 5)), operator,
                         lambda moment: self._call(callback, operator, 1, moment))

    def _call(self, callback: Callback, operator: User, attempt: int, moment: datetime) -> None:
        if callback.subject.phone is None:
            if self.rng.random() < 0.25:  # no phone of its own, and the village committee could not help
                record_attempt(callback, "空号", operator)
                return
        elif attempt == 1:
            reveal_phone(callback)
        roll = self.rng.random()
        if roll < 0.02:
            record_attempt(callback, "拒访", operator)
            return
        if roll < 0.25:
            record_attempt(callback, "无人接听", operator)
            if attempt < 3:
                self.timeline.at(_at(self._later(moment.date(), 1, 2), self.rng.randint(9, 17)), operator,
                                 lambda later: self._call(callback, operator, attempt + 1, later))
            return
        record_attempt(callback, CONNECTED, operator)
        party = self.by_contract[callback.contract_id]
        record = callback.record
        confirmed = not (record.flagged and self.rng.random() < 0.2)
        good = party.profile.errors < 0.08
        satisfaction = _weighted(self.rng, _SATISFACTION[good])
        complaint = self.rng.choice(_COMPLAINTS) if satisfaction <= 2 else None
        record_answers(callback, confirmed=confirmed, satisfaction=satisfaction, attitude=_ATTITUDES[satisfaction],
                       complaint=complaint, operator=operator, answered_by=self._answerer(callback))

    def _answerer(self, callback: Callback) -> str:
        """Who picked up: households mostly themselves, the persons cared for often a relative.
        Drawn from a generator of its own, so that the rest of the replay stays as it was."""
        rng = random.Random(f"{self.seed}:answerer:{callback.id}")
        weights = _ANSWERERS[callback.subject.kind]
        return rng.choices([code for code, _ in weights], [weight for _, weight in weights])[0]

    # --- reviews ------------------------------------------------------------------------------

    def _score(self, quarter: Quarter, moment: datetime) -> None:
        outcomes = [outcome for contract in self._contracts_of(quarter)
                    for outcome in score_quarter_reviews(quarter, contract.code)]
        if quarter == self.quarters[-1]:
            return  # the newest quarter stays a draft for the supervisor
        reviews = [outcome.review for outcome in outcomes if outcome.review is not None]
        if quarter == self.quarters[0] and reviews:
            add_manual_item(reviews[0], *_MANUAL_ITEM, self.supervisor)
        for review in reviews:
            publish(review, moment.date())
            party = self.by_contract[review.contract_id]
            disputed = quarter == self.quarters[0] and party is self.weakest
            roll = self.rng.random()
            if disputed:
                said = self._later(moment.date(), 2, 4)
                self.timeline.at(_at(said, 15), party.user, lambda later, review=review, party=party: comment(
                    review, party.user, "disagree", _DISAGREEMENT, later.date()))
                decided = self._later(said, 2, 3)
                self.timeline.at(_at(decided, 10), self.admin, lambda later, review=review: settle(
                    review, self.admin, *_SETTLEMENT))
                approved = self._later(decided, 1, 2)
            elif roll < 0.75:
                said = self._later(moment.date(), 1, 5)
                self.timeline.at(_at(said, self.rng.randint(9, 17)), party.user,
                                 lambda later, review=review, party=party: comment(
                                     review, party.user, "agree", "", later.date()))
                approved = self._later(said, 1, 3)
            else:  # no answer within the window: the review stands
                approved = self._working_day(review.comment_deadline + ONE_DAY)
            self.timeline.at(_at(approved, 11), self.admin, lambda later, review=review: self._approve(review, later))

    # --- corrections ------------------------------------------------------------------------------

    def _plan_corrections(self) -> None:
        """Three contracts (of different contractors where there are; the small demo has two) ask to
        correct a record of the running quarter a week ago: the first request is approved (a second version of the
        record), the second refused, the third still waits for the supervisor."""
        day = self._working_day(self.today - timedelta(days=CORRECTION_DAYS_AGO))
        seen = Counter()
        ranked = [(seen.update([party.user.id]) or seen[party.user.id], order, party)
                  for order, party in enumerate(self.parties)]
        parties = [party for _, _, party in sorted(ranked, key=lambda entry: entry[:2])]  # contractors first
        for index, decision in enumerate(("approve", "refuse", "pending")):
            party = parties[index % len(parties)]
            self.timeline.at(_at(day, 10 + index), party.user,
                             lambda moment, party=party, decision=decision: self._ask_correction(party, decision,
                                                                                                 moment))

    def _ask_correction(self, party: Party, decision: str, moment: datetime) -> None:
        today = moment.date()
        quarter = quarter_of(today)
        candidates = db.session.execute(
            select(CompletionRecord).where(CompletionRecord.contract_id == party.contract.id,
                                           CompletionRecord.service_date >= quarter.start,
                                           CompletionRecord.service_date < today)
            .order_by(CompletionRecord.id).limit(50)).scalars()
        record = next((found for found in candidates if corrections.blocker(found) is None), None)
        if record is None:
            return
        if record.service_type == SURVEY:
            cells = {"家庭人口数": str(min(record.household_size + 1, 20))}
            reason = "入户调查时漏记了在外务工的家庭成员，户口簿与居住证明见附件"
        else:
            cells = {"备注": "对象当天上午在卫生院复诊，服务改在下午进行"}
            reason = "备注漏填了服务时间调整的原因"
        try:
            request = corrections.request_correction(record, party.user, cells, reason, today)
        except corrections.CorrectionRefused:
            return
        if decision == "pending":
            return
        decided = _at(self._later(today, 1, 2), 15)
        if decision == "approve":
            self.timeline.at(decided, self.supervisor, lambda later: corrections.approve(
                request, self.supervisor, later.date(), "与户口簿和居住证明一致，同意更正"))
        else:
            self.timeline.at(decided, self.supervisor, lambda later: corrections.refuse(
                request, self.supervisor, "未提供佐证材料，请补充后重新申请"))

    def _approve(self, review: QuarterlyReview, moment: datetime) -> None:
        """Approve and lock; once every quarter of the contract's year is approved, evaluate the year."""
        approve(review, self.admin, moment.date())
        contract = review.contract
        year = Quarter.parse(review.quarter).year
        if all(found is not None and found.status == "approved" for _, found in quarter_standings(contract, year)):
            self.timeline.at(_at(self._later(moment.date(), 1, 3), 10), self.admin,
                             lambda _: compute_evaluation(contract, year))


def _weighted(rng: random.Random, pairs) -> int:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _rechecked(record: CompletionRecord, outcome: str, rng: random.Random) -> dict:
    """The supervisor's re-measured values: as reported ("ok"), one field off ("minor"), or wrong
    where it counts ("fail")."""
    service = record.service_type
    if service == SURVEY:
        income, assets = record.annual_income_fen, record.financial_assets_fen
        values = {"household_size": record.household_size,
                  "annual_income_fen": whole_yuan(income * rng.uniform(0.96, 1.04)),
                  "financial_assets_fen": whole_yuan(assets * rng.uniform(0.97, 1.03)),
                  "survey_conclusion": record.survey_conclusion}
        if outcome == "minor":
            values["annual_income_fen"] = whole_yuan(income * rng.uniform(1.2, 1.4)) + 100_000
        elif outcome == "fail" and record.survey_conclusion == "不符合":  # income overstated
            values["annual_income_fen"] = whole_yuan(income * rng.uniform(0.3, 0.5))
            values["survey_conclusion"] = "符合"
        elif outcome == "fail":  # wages left out
            values["annual_income_fen"] = whole_yuan(income * rng.uniform(1.4, 1.8)) + 200_000
            values["survey_conclusion"] = "不符合"
        return values
    if service == ASSESSMENT:
        met = {key: getattr(record, key) for key in self_care.ITEM_KEYS}
        fails = sum(not value for value in met.values())
        if outcome == "minor":
            # One item judged differently, where that leaves the conclusion as it was.
            for key in rng.sample(self_care.ITEM_KEYS, len(self_care.ITEM_KEYS)):
                flipped = fails + (1 if met[key] else -1)
                if self_care.conclusion_for_fails(flipped) == record.conclusion:
                    met[key] = not met[key]
                    break
        elif outcome == "fail":
            target = 1 if fails == 0 else 0 if fails <= 3 else 3
            lost = LOSS_ORDER[:target]
            met = {key: key not in lost for key in self_care.ITEM_KEYS}
        return met
    items = set((record.care_items or "").split("、"))
    if outcome == "minor" and len(items) > 1:
        items.remove(sorted(items)[rng.randrange(len(items))])
    return {"visit_happened": outcome != "fail", "care_items": sorted(items)}
