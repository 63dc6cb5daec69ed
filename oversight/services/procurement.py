"""Procurement projects to award: set up, announce, take bids, score, evaluate (综合评分法), award.

Each step checks the project's state and refuses with ProcurementError (Chinese, nothing
changed); the caller commits. Every change is written to the audit log by the session listener.
The evaluation itself is `domain.tender_evaluation`; the award creates the contract with the
project's lines and the winning bid's price (`services.registry.save_contract`), which the
rest of the app then uses like any other.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .. import policy
from ..clock import utcnow
from ..domain import tender_evaluation as rules
from ..domain.vocabulary import (
    TENDER_STATUSES_OPEN_TO_BIDS,
    TENDER_STATUSES_OPEN_TO_SETUP,
    AttachmentOwner,
    ProcurementMethod,
    ServiceType,
    TenderStatus,
    label_of,
)
from ..extensions import db
from ..models import (
    Contract,
    Contractor,
    ProcurementLine,
    ProcurementProject,
    TenderBid,
    TenderEvaluator,
    TenderScore,
    TenderScoringItem,
    User,
)
from ..policy import Action
from .attachments import OwnerKind, Upload, attach_all, register_owner
from .contractor_profile import past_performance_for
from .registry import RegistryError, save_contract, save_contractor, sync_lines

CENTI = Decimal(100)


class ProcurementError(ValueError):
    """A refused step; the message is Chinese, for the user."""


register_owner(OwnerKind(
    AttachmentOwner.PROCUREMENT_PROJECT, ProcurementProject,
    # A project is the bureau's until it is awarded, and its bids stay the bureau's after: no
    # contractor sees a project's documents (`contract_id` 0 finds no contract).
    contract_id=lambda project: project.contract_id or 0,
    contractor_sees=lambda project: False,
    may_attach=lambda project, user: policy.may(user, Action.MANAGE_PROCUREMENT),
))


def points_of(centi: int) -> Decimal:
    """Hundredths of a point as Decimal points: 3000 → 30.00."""
    return Decimal(centi) / CENTI


def _centi(points: Decimal, what: str) -> int:
    value = points * CENTI
    if value != value.to_integral_value():
        raise ProcurementError(f"{what}最多保留两位小数")
    return int(value)


def _require(project: ProcurementProject, allowed, step: str) -> None:
    if project.status not in allowed:
        raise ProcurementError(f"项目{label_of(TenderStatus, project.status)}，不能{step}")


# --- the project and its lines ----------------------------------------------------------------


def save_project(project: ProcurementProject | None, *, lines: Mapping[str, tuple[int, int]], code: str,
                 title: str, budget_line: str, budget_fen: int, procurement_method: str, price_points: Decimal,
                 term_start: date, term_end: date, performance_share_bp: int, user: User | None = None,
                 announced_on: date | None = None, bid_opening_on: date | None = None,
                 county_id: int | None = None) -> ProcurementProject:
    """Create (project None, in county `county_id`) or change a project before its bids are
    opened; `lines` maps service type → (annual target, visits per month)."""
    if project is None and county_id is None:
        raise ProcurementError("采购项目须属于一个县（区）")
    if project is not None:
        _require(project, TENDER_STATUSES_OPEN_TO_SETUP, "修改项目内容")
    if procurement_method not in ProcurementMethod.codes():
        raise ProcurementError("采购方式无效")
    if budget_fen <= 0:
        raise ProcurementError("预算金额应大于 0")
    if not Decimal(0) <= price_points <= Decimal(100):
        raise ProcurementError("价格分值应在 0 至 100 分之间")
    if term_end < term_start:
        raise ProcurementError("服务期终止日期不能早于起始日期")
    if not lines:
        raise ProcurementError("采购项目至少包含一项服务")
    for service_type, (target, _) in lines.items():
        if service_type not in ServiceType.codes() or target <= 0:
            raise ProcurementError("服务内容或年度目标量无效")
    if announced_on and bid_opening_on and bid_opening_on < announced_on:
        raise ProcurementError("开标日期不能早于公告日期")
    taken = db.session.execute(select(ProcurementProject.id).where(ProcurementProject.code == code)).scalar()
    if taken is not None and (project is None or taken != project.id):
        raise ProcurementError(f"项目编号 {code} 已存在")
    project = project or ProcurementProject(status=TenderStatus.DRAFT, county_id=county_id,
                                            created_by_id=user.id if user is not None else None)
    project.code, project.title, project.budget_line, project.budget_fen = code, title, budget_line, budget_fen
    project.procurement_method = procurement_method
    project.price_points_centi = _centi(price_points, "价格分值")
    project.term_start, project.term_end, project.performance_share_bp = term_start, term_end, performance_share_bp
    project.announced_on, project.bid_opening_on = announced_on, bid_opening_on
    sync_lines(project.lines, lines, ProcurementLine)
    db.session.add(project)
    db.session.flush()
    return project


def _check_method(project: ProcurementProject) -> None:
    try:
        rules.check_method(points_of(project.price_points_centi), _domain_items(project))
    except rules.EvaluationRefused as refused:
        raise ProcurementError(str(refused)) from refused


def announce(project: ProcurementProject, day: date) -> None:
    """发布采购公告: the scoring method is fixed enough to publish (points make 100)."""
    _require(project, {TenderStatus.DRAFT}, "发布公告")
    _check_method(project)
    if project.bid_opening_on is not None and project.bid_opening_on < day:
        raise ProcurementError("开标日期不能早于公告日期")
    project.status, project.announced_on = TenderStatus.ANNOUNCED, day
    db.session.flush()


def open_bids(project: ProcurementProject, day: date) -> None:
    """开标: the bids are in; the committee's scoring begins."""
    _require(project, {TenderStatus.ANNOUNCED}, "开标")
    if project.announced_on is not None and day < project.announced_on:
        raise ProcurementError("开标日期不能早于公告日期")
    _check_method(project)
    if not project.bids:
        raise ProcurementError("尚无投标，不能开标")
    if not project.evaluators:
        raise ProcurementError("尚未登记评标委员会成员，不能开标")
    project.status, project.bid_opening_on = TenderStatus.OPENED, day
    db.session.flush()


def cancel(project: ProcurementProject, reason: str) -> None:
    """终止 (废标): before the award."""
    _require(project, {TenderStatus.DRAFT, TenderStatus.ANNOUNCED, TenderStatus.OPENED, TenderStatus.EVALUATED},
             "终止")
    if not reason.strip():
        raise ProcurementError("请写明终止理由")
    project.status, project.cancel_reason = TenderStatus.CANCELLED, reason.strip()
    db.session.flush()


def attach_documents(project: ProcurementProject, uploads: Sequence[Upload], user: User) -> int:
    """采购文件、投标文件、评审报告 …: stored like every attachment; how many files were given."""
    attach_all(project, uploads, user)
    return len(uploads)


# --- scoring items and the committee ------------------------------------------------------------


def add_item(project: ProcurementProject, *, name: str, max_points: Decimal, technical: bool,
             past_performance: bool = False) -> TenderScoringItem:
    _require(project, TENDER_STATUSES_OPEN_TO_SETUP, "修改评分项")
    if max_points <= 0:
        raise ProcurementError("评分项分值应大于 0")
    if any(item.name == name for item in project.items):
        raise ProcurementError(f"评分项“{name}”已存在")
    item = TenderScoringItem(name=name, max_points_centi=_centi(max_points, "评分项分值"), technical=technical,
                             past_performance=past_performance,
                             sequence=max((i.sequence for i in project.items), default=0) + 1)
    project.items.append(item)
    db.session.flush()
    return item


def remove_item(project: ProcurementProject, item: TenderScoringItem) -> None:
    _require(project, TENDER_STATUSES_OPEN_TO_SETUP, "修改评分项")
    project.items.remove(item)
    db.session.flush()


def add_evaluator(project: ProcurementProject, name: str) -> TenderEvaluator:
    _require(project, TENDER_STATUSES_OPEN_TO_SETUP, "修改评标委员会")
    if any(member.name == name for member in project.evaluators):
        raise ProcurementError(f"评标委员会已有 {name}")
    member = TenderEvaluator(name=name, sequence=max((m.sequence for m in project.evaluators), default=0) + 1)
    project.evaluators.append(member)
    db.session.flush()
    return member


def remove_evaluator(project: ProcurementProject, member: TenderEvaluator) -> None:
    _require(project, TENDER_STATUSES_OPEN_TO_SETUP, "修改评标委员会")
    project.evaluators.remove(member)
    db.session.flush()


# --- bids -------------------------------------------------------------------------------------


def new_bidder(project: ProcurementProject, *, name: str, credit_code: str, contact_person: str,
               contact_phone: str) -> Contractor:
    """A bidder not yet registered becomes a contractor organisation (承接机构) of the project's county."""
    try:
        return save_contractor(None, name=name, credit_code=credit_code, contact_person=contact_person,
                               contact_phone=contact_phone, county_id=project.county_id)
    except RegistryError as refused:
        raise ProcurementError(str(refused)) from refused


def record_bid(project: ProcurementProject, contractor: Contractor, *, price_fen: int, valid: bool = True,
               invalid_reason: str | None = None) -> TenderBid:
    """A bidder's bid (its price in fen); again for the same bidder changes it."""
    _require(project, TENDER_STATUSES_OPEN_TO_BIDS, "登记投标")
    if price_fen <= 0:
        raise ProcurementError("投标报价应大于 0")
    if not valid and not (invalid_reason or "").strip():
        raise ProcurementError("无效投标须写明理由")
    if contractor.county_id != project.county_id:
        raise ProcurementError("投标人须为本县（区）登记的承接机构")
    bid = next((b for b in project.bids if b.contractor_id == contractor.id), None)
    if bid is None:
        if project.procurement_method == ProcurementMethod.SINGLE_SOURCE and project.bids:
            raise ProcurementError("单一来源采购只有一个供应商")
        bid = TenderBid(contractor_id=contractor.id)
        project.bids.append(bid)
    bid.price_fen, bid.valid = price_fen, valid
    bid.invalid_reason = None if valid else invalid_reason.strip()
    db.session.flush()
    return bid


# --- the committee's scores -----------------------------------------------------------------------


def sheet_of(project: ProcurementProject, member: TenderEvaluator) -> dict[tuple[int, int], Decimal]:
    """One member's points: (bid id, item id) → points."""
    rows = db.session.execute(select(TenderScore).where(TenderScore.evaluator_id == member.id)).scalars()
    return {(row.bid_id, row.item_id): points_of(row.points_centi) for row in rows}


def save_sheet(project: ProcurementProject, member: TenderEvaluator,
               points: Mapping[tuple[int, int], Decimal | None], user: User | None) -> int:
    """Store one member's score sheet ((bid id, item id) → points; None clears a cell); every cell
    is checked before any is stored. Returns how many cells are filled."""
    _require(project, {TenderStatus.OPENED}, "录入评分")
    if member.project_id != project.id:
        raise ProcurementError("该评委不属于本项目")
    items = {item.id: item for item in project.items}
    bids = {bid.id: bid for bid in project.bids if bid.valid}
    centis: dict[tuple[int, int], int | None] = {}
    for (bid_id, item_id), value in points.items():
        if bid_id not in bids or item_id not in items:
            raise ProcurementError("评分表与项目的投标或评分项不符，请刷新后重新填写")
        if value is None:
            centis[(bid_id, item_id)] = None
            continue
        item, bid = items[item_id], bids[bid_id]
        if not Decimal(0) <= value <= points_of(item.max_points_centi):
            raise ProcurementError(f"{bid.contractor.name}的“{item.name}”打 {value} 分，"
                                   f"应在 0 至 {points_of(item.max_points_centi)} 分之间")
        centis[(bid_id, item_id)] = _centi(value, f"{bid.contractor.name}的“{item.name}”评分")
    stored = {(row.bid_id, row.item_id): row for row in db.session.execute(
        select(TenderScore).where(TenderScore.evaluator_id == member.id)).scalars()}
    for key, centi in centis.items():
        row = stored.get(key)
        if centi is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(TenderScore(project_id=project.id, evaluator_id=member.id, bid_id=key[0], item_id=key[1],
                                       points_centi=centi, entered_by_id=user.id if user is not None else None))
        elif row.points_centi != centi:
            row.points_centi = centi
            row.entered_by_id = user.id if user is not None else None
    db.session.flush()
    return sum(1 for centi in {**{k: r.points_centi for k, r in stored.items()}, **centis}.values()
               if centi is not None)


def past_performance_points(project: ProcurementProject, today: date) -> dict[tuple[int, int], Decimal | None]:
    """For each item fed from past performance and each valid bid: the bidder's points out of the
    item's (its 履约档案, `services.contractor_profile`); None when it has no approved result."""
    found: dict[tuple[int, int], Decimal | None] = {}
    for item in project.items:
        if item.past_performance:
            for bid in project.bids:
                if bid.valid:
                    found[(bid.id, item.id)] = past_performance_for(
                        bid.contractor_id, today, points_of(item.max_points_centi)).points
    return found


def record_tie_decision(project: ProcurementProject, order: Sequence[int], note: str) -> None:
    """评标委员会抽签 (or vote): the order of bids tied on total, price and technical score."""
    _require(project, {TenderStatus.OPENED}, "记录抽签结果")
    ids = {bid.id for bid in project.bids}
    if not order or any(bid_id not in ids for bid_id in order) or len(set(order)) != len(order):
        raise ProcurementError("抽签结果应列出并列的投标人，每个一次")
    if not note.strip():
        raise ProcurementError("请写明抽签（或表决）的经过")
    project.tie_decision, project.tie_note = list(order), note.strip()
    db.session.flush()


# --- evaluation and award -----------------------------------------------------------------------


def _domain_items(project: ProcurementProject) -> list[rules.ScoringItem]:
    return [rules.ScoringItem(str(item.id), item.name, points_of(item.max_points_centi), item.technical)
            for item in project.items]


def compute(project: ProcurementProject) -> rules.Evaluation:
    """The ranking as the stored scores give it now (EvaluationRefused while incomplete)."""
    bids = [rules.Bid(str(bid.id), bid.contractor.name, bid.price_fen, bid.valid) for bid in project.bids]
    minimum = rules.MIN_VALID_BIDS.get(project.procurement_method, 1)
    valid = sum(1 for bid in bids if bid.valid)
    if valid < minimum:
        raise rules.EvaluationRefused(f"{project.procurement_method}须有至少 {minimum} 家有效投标（现有 {valid} 家），"
                                      "应终止本次采购")
    # Members are known by their names (unique in a project), so that a refusal names them.
    names = {member.id: member.name for member in project.evaluators}
    scores = {(names[row.evaluator_id], str(row.bid_id), str(row.item_id)): points_of(row.points_centi)
              for row in db.session.execute(select(TenderScore).where(TenderScore.project_id == project.id)).scalars()
              if row.evaluator_id in names}
    return rules.evaluate(price_points=points_of(project.price_points_centi), items=_domain_items(project),
                          bids=bids, members=list(names.values()), scores=scores,
                          decision_order=[str(bid_id) for bid_id in project.tie_decision or ()])


def record_evaluation(project: ProcurementProject, user: User | None) -> rules.Evaluation:
    """评审结束: the computed ranking and recommended winner are recorded; the project waits for its award."""
    _require(project, {TenderStatus.OPENED}, "记录评审结果")
    try:
        result = compute(project)
    except rules.EvaluationRefused as refused:
        raise ProcurementError(str(refused)) from refused
    if result.winner is None:
        raise ProcurementError("第一名并列，须先记录评标委员会的抽签结果")
    project.evaluation = rules.summary(result)
    project.evaluated_at, project.evaluated_by_id = utcnow(), user.id if user is not None else None
    project.status = TenderStatus.EVALUATED
    db.session.flush()
    return result


def recommended_bid(project: ProcurementProject) -> TenderBid | None:
    """The bid the recorded evaluation recommends."""
    winner = (project.evaluation or {}).get("winner")
    return next((bid for bid in project.bids if str(bid.id) == winner), None) if winner else None


def award(project: ProcurementProject, *, contract_code: str, contract_title: str, day: date,
          kpi_scheme_code: str = "default") -> Contract:
    """定标: the recommended bid wins; the contract is created with the project's service lines
    and targets, term and performance share, and the winning price as its amount."""
    _require(project, {TenderStatus.EVALUATED}, "定标")
    bid = recommended_bid(project)
    if bid is None:
        raise ProcurementError("评审结果没有推荐的中标人")
    if project.bid_opening_on is not None and day < project.bid_opening_on:
        raise ProcurementError("定标日期不能早于开标日期")
    try:
        contract = save_contract(
            None, lines={line.service_type: (line.annual_target, line.visits_per_month) for line in project.lines},
            code=contract_code, title=contract_title, contractor_id=bid.contractor_id,
            procurement_method=project.procurement_method, amount_fen=bid.price_fen, term_start=project.term_start,
            term_end=project.term_end, performance_share_bp=project.performance_share_bp,
            kpi_scheme_code=kpi_scheme_code)
    except RegistryError as refused:
        raise ProcurementError(str(refused)) from refused
    bid.awarded = True
    project.contract_id, project.awarded_on, project.status = contract.id, day, TenderStatus.AWARDED
    db.session.flush()
    return contract


def project_of_contract(contract_id: int) -> ProcurementProject | None:
    """The awarded project a contract came from, if any."""
    return db.session.execute(
        select(ProcurementProject).where(ProcurementProject.contract_id == contract_id)).scalar_one_or_none()
