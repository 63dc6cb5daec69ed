"""Spot-check and callback draws: freeze the population, draw, store, verify (SPEC section 5).

A draw covers one contract and one service type for one quarter; a spot-check draw's targeted
stratum also holds the records that complaints and open evidence flags (contradictions with
verification data, `services/verification.py`) point at, an evidence-flagged record of an earlier
quarter included. The population is frozen in
the draw row itself ([record id, worker 工号, flagged, targeted] per record, by id), so that the
domain's `draw_sample` can re-compute the sample from the row alone; the audit log's creation
event of the row holds the same seed, rule and population, which is what `verify_stored_draw`
holds the row against.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..domain.audit_chain import to_json_value
from ..domain.periods import Quarter
from ..domain.vocabulary import AnomalyFlag, DrawPurpose, RecordSource, ServiceType, label_of
from ..domain.sampling import (
    KIND_SHARE,
    STRATA,
    DrawParams,
    DrawResult,
    PopulationItem,
    SamplingPlan,
    VerifyResult,
    draw_sample,
    new_seed,
    verify_draw,
)
from ..domain.sampling.plans import DEFAULT_FLOOR, DEFAULT_SHARE
from ..domain.local_standards import StandardTerms
from ..extensions import db
from .standards import terms_on
from ..models import (
    Assignment,
    AppVisit,
    AuditEvent,
    Callback,
    Complaint,
    CompletionRecord,
    Contract,
    DrawItem,
    EvidenceFlag,
    FieldWorker,
    SamplingDraw,
    VisitMedia,
)

SPOT_CHECK = DrawPurpose.SPOT_CHECK
CALLBACK = DrawPurpose.CALLBACK
MEDIA_AUDIT = DrawPurpose.MEDIA_AUDIT
# A media audit's targeted stratum: the app records already flagged for their photos.
PHOTO_FLAGS = frozenset({AnomalyFlag.REUSED_PHOTO, AnomalyFlag.SIMILAR_PHOTO})

# A complaint against a worker puts at most this many of the worker's latest records of the
# quarter into the targeted stratum: all targeted records are checked, so the load stays bounded.
TARGETED_RECORDS_PER_WORKER = 5
# Callbacks sample served subjects by share only (no floor): ceil(share × subjects) is at least one.
CALLBACK_FLOOR = 0
DEFAULT_CALLBACK_SHARE_BP = 1000
SEED_MAX_LENGTH = 128


class DrawError(ValueError):
    """A draw refused; the message is Chinese, for the user."""


@dataclass(frozen=True)
class Skipped:
    """A contract and service type in scope that got no draw, and why."""

    contract: Contract
    service_type: str
    reason: str


@dataclass
class DrawOutcome:
    """The draws made by one request, and the scopes left out."""

    draws: list[SamplingDraw] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def standard_for(county_id: int, day: date) -> StandardTerms | None:
    """A county's local standards in force on `day` (a draw's: its drawing day), if its admin set them."""
    return terms_on(county_id, day)


def _bp(value: int) -> Decimal:
    return Decimal(value) / 10000


def draw_params(contract: Contract, purpose: str, standard: StandardTerms | None,
                risk_weighted: bool = False) -> DrawParams:
    """The rule a draw of this contract follows: callbacks by the county's callback share,
    spot checks by the contract's sampling rule (its share and floor defaulting to the county's)."""
    if purpose == MEDIA_AUDIT:
        return DrawParams(rule=KIND_SHARE, share=Decimal(current_app.config["MEDIA_AUDIT_SHARE_PERCENT"]) / 100,
                          floor=int(current_app.config["MEDIA_AUDIT_FLOOR"]), risk_weighted=risk_weighted)
    if purpose == CALLBACK:
        share_bp = standard.callback_share_bp if standard else DEFAULT_CALLBACK_SHARE_BP
        return DrawParams(rule=KIND_SHARE, share=_bp(share_bp), floor=CALLBACK_FLOOR, risk_weighted=risk_weighted)
    rule = dict(contract.sampling_rule or {})
    kind = rule.get("kind", KIND_SHARE)
    share = rule.get("share") or (_bp(standard.spot_check_share_bp) if standard else DEFAULT_SHARE)
    floor = rule.get("floor")
    if floor is None:
        floor = standard.spot_check_floor if standard else DEFAULT_FLOOR
    extra = {key: rule[key] for key in ("aql", "limiting_quality", "consumer_risk") if rule.get(key) is not None}
    return DrawParams(rule=kind, share=share, floor=int(floor), risk_weighted=risk_weighted, **extra)


def params_as_dict(params: DrawParams) -> dict:
    """The rule as stored on the draw: Decimals as text, so that JSON keeps them exact."""
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in asdict(params).items()}


def stored_params(draw: SamplingDraw) -> DrawParams:
    """The rule a stored draw was made with."""
    return DrawParams(**draw.rule)


def plan_as_dict(plan: SamplingPlan | None, rule: str) -> dict:
    """The plan as stored and shown; an empty random stratum has no plan (n 0)."""
    if plan is None:
        return {"kind": rule, "n": 0, "ac": None, "re": None, "lot_size": 0, "summary": "随机层为空，无抽样方案"}
    data = {key: str(value) if isinstance(value, Decimal) else value for key, value in asdict(plan).items()}
    data["notes"] = list(plan.notes)
    data["summary"] = plan.summary()
    return data


def stored_population(draw: SamplingDraw) -> list[PopulationItem]:
    """The frozen population of a stored draw."""
    return [PopulationItem(record_id, worker, flagged, targeted)
            for record_id, worker, flagged, targeted in draw.population]


def recompute(draw: SamplingDraw) -> DrawResult:
    """The draw re-computed from its row: plan, strata, worker allocations and notes."""
    return draw_sample(stored_population(draw), stored_params(draw), draw.seed)


def contracts_in_scope_query(quarter: Quarter, contract_id: int | None = None):
    """The contract asked for, or every contract whose term overlaps the quarter, by code."""
    stmt = select(Contract).where(Contract.term_start <= quarter.end, Contract.term_end >= quarter.start)
    if contract_id is not None:
        stmt = stmt.where(Contract.id == contract_id)
    return stmt.order_by(Contract.code)


def contracts_in_scope(quarter: Quarter, contract_id: int | None) -> list[Contract]:
    """The contract asked for, or every contract whose term overlaps the quarter."""
    return list(db.session.execute(contracts_in_scope_query(quarter, contract_id)).scalars())


def _quarter_records(contract_id: int, service_type: str, quarter: Quarter):
    return (
        select(CompletionRecord.id, FieldWorker.worker_no, CompletionRecord.flagged, CompletionRecord.worker_id,
               Assignment.subject_id, CompletionRecord.service_date)
        .join(FieldWorker, CompletionRecord.worker_id == FieldWorker.id)
        .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .where(CompletionRecord.contract_id == contract_id, CompletionRecord.service_type == service_type,
               CompletionRecord.service_date >= quarter.start, CompletionRecord.service_date <= quarter.end)
    )


def open_complaints(contract_id: int) -> list[Complaint]:
    """Complaints of a contract whose records have not yet gone into a draw."""
    return list(db.session.execute(
        select(Complaint).where(Complaint.contract_id == contract_id, Complaint.status == "open")
        .order_by(Complaint.id)).scalars())


def _targeted_ids(rows: Sequence, complaints: Sequence[Complaint]) -> tuple[set[int], list[Complaint]]:
    """Records a complaint puts in the targeted stratum, and the complaints that found any."""
    targeted: set[int] = set()
    used = []
    latest_first = sorted(rows, key=lambda row: (row.service_date, row.id), reverse=True)
    for complaint in complaints:
        found = {row.id for row in rows if row.id == complaint.record_id}
        if complaint.worker_id is not None:
            found.update([row.id for row in latest_first
                          if row.worker_id == complaint.worker_id][:TARGETED_RECORDS_PER_WORKER])
        if found:
            targeted |= found
            used.append(complaint)
    return targeted, used


def spot_check_population(contract_id: int, service_type: str, quarter: Quarter,
                          complaints: Sequence[Complaint] = ()) -> tuple[list[PopulationItem], list[Complaint]]:
    """The quarter's completed records of the contract and service type, by id, with the
    complaint-targeted ones marked; also the complaints that targeted any."""
    rows = db.session.execute(_quarter_records(contract_id, service_type, quarter)
                              .order_by(CompletionRecord.id)).all()
    targeted, used = _targeted_ids(rows, complaints)
    return [PopulationItem(row.id, row.worker_no, bool(row.flagged), row.id in targeted) for row in rows], used


def open_evidence_flags(contract_id: int, service_type: str) -> list[EvidenceFlag]:
    """Contradictions with verification data on the contract's records of this service that no
    draw has targeted yet."""
    return list(db.session.execute(
        select(EvidenceFlag).where(EvidenceFlag.contract_id == contract_id, EvidenceFlag.service_type == service_type,
                                   EvidenceFlag.status == "open").order_by(EvidenceFlag.id)).scalars())


def with_evidence_targets(population: list[PopulationItem], contract_id: int, service_type: str, quarter: Quarter,
                          flags: Sequence[EvidenceFlag]) -> tuple[list[PopulationItem], list[EvidenceFlag]]:
    """The population with every record an open evidence flag names in the targeted stratum: a
    record of the quarter is marked, an earlier one (its quarter drawn before the data came) is
    added; a record after the quarter waits for the draw of its own. Also the flags used."""
    by_id = {item.record_id: item for item in population}
    earlier_ids = sorted({flag.record_id for flag in flags} - set(by_id))
    if earlier_ids:
        rows = db.session.execute(
            select(CompletionRecord.id, FieldWorker.worker_no, CompletionRecord.flagged)
            .join(FieldWorker, CompletionRecord.worker_id == FieldWorker.id)
            .where(CompletionRecord.id.in_(earlier_ids), CompletionRecord.contract_id == contract_id,
                   CompletionRecord.service_type == service_type, CompletionRecord.service_date < quarter.start)).all()
        by_id.update({row.id: PopulationItem(row.id, row.worker_no, bool(row.flagged)) for row in rows})
    used = [flag for flag in flags if flag.record_id in by_id]
    targeted = {flag.record_id for flag in used}
    marked = [PopulationItem(item.record_id, item.worker, item.flagged, item.targeted or item.record_id in targeted)
              for item in by_id.values()]
    return sorted(marked, key=lambda item: item.record_id), used


def callback_population(contract_id: int, service_type: str, quarter: Quarter) -> list[PopulationItem]:
    """One record per subject served in the quarter (the subject's latest), by record id."""
    rows = db.session.execute(_quarter_records(contract_id, service_type, quarter)
                              .order_by(CompletionRecord.service_date.desc(), CompletionRecord.id.desc())).all()
    latest: dict[int, object] = {}
    for row in rows:
        latest.setdefault(row.subject_id, row)
    return sorted((PopulationItem(row.id, row.worker_no, bool(row.flagged)) for row in latest.values()),
                  key=lambda item: item.record_id)


def _media_audit_rows(contract_id: int, service_type: str, quarter: Quarter):
    """The quarter's app records of the contract and service that carry a photo or a signature."""
    with_media = select(VisitMedia.visit_id).where(VisitMedia.visit_id == AppVisit.id).exists()
    return (_quarter_records(contract_id, service_type, quarter)
            .add_columns(CompletionRecord.anomaly_flags)
            .join(AppVisit, AppVisit.record_id == CompletionRecord.id)
            .where(CompletionRecord.source == RecordSource.APP, with_media))


def media_audit_population(contract_id: int, service_type: str, quarter: Quarter) -> list[PopulationItem]:
    """影像核验's population: the quarter's app records with photos or a signature, by id; those
    already flagged for a reused or near-identical photo are targeted (all of them reviewed)."""
    rows = db.session.execute(_media_audit_rows(contract_id, service_type, quarter)
                              .order_by(CompletionRecord.id)).all()
    return [PopulationItem(row.id, row.worker_no, bool(row.flagged),
                           any(flag.get("code") in PHOTO_FLAGS for flag in row.anomaly_flags or ()))
            for row in rows]


def existing_draw(purpose: str, quarter: Quarter, contract_id: int, service_type: str) -> SamplingDraw | None:
    return db.session.execute(select(SamplingDraw).where(
        SamplingDraw.purpose == purpose, SamplingDraw.quarter == str(quarter),
        SamplingDraw.contract_id == contract_id, SamplingDraw.service_type == service_type)).scalar_one_or_none()


def check_seed(seed: str | None) -> str | None:
    """A given seed, stripped; None when not given (a random one will be used)."""
    if seed is None or not seed.strip():
        return None
    seed = seed.strip()
    if len(seed) > SEED_MAX_LENGTH:
        raise DrawError(f"随机种子不能超过 {SEED_MAX_LENGTH} 个字符")
    return seed


def check_draw_request(purpose: str, quarter: Quarter, *, today: date, contract_id: int | None = None,
                       service_type: str | None = None, seed: str | None = None,
                       county_ids: list[int] | None = None) -> list[Contract]:
    """The contracts a draw request covers (of `county_ids`, the requester's counties; None:
    every county), or DrawError saying why it cannot be drawn: cheap checks, made by the page
    before the draw is queued and again by the draw itself."""
    if purpose not in DrawPurpose.codes():
        raise DrawError(f"未知的抽样用途：{purpose}")
    if service_type is not None and service_type not in ServiceType.codes():
        raise DrawError(f"未知的服务类型：{service_type}")
    if quarter.end >= today:
        raise DrawError(f"{quarter} 尚未结束，季度结束后才能抽样（避免抽样后再补录该季度记录）")
    check_seed(seed)
    contracts = contracts_in_scope(quarter, contract_id)
    if county_ids is not None:
        contracts = [contract for contract in contracts if contract.county_id in county_ids]
    if contract_id is not None and not contracts:
        raise DrawError(f"合同不存在或服务期与 {quarter} 不重叠")
    if contract_id is not None and service_type is not None and service_type not in contracts[0].service_types:
        raise DrawError(f"合同不包含{label_of(ServiceType, service_type)}服务")
    return contracts


def make_draws(purpose: str, quarter: Quarter, *, today: date, contract_id: int | None = None,
               service_type: str | None = None, risk_weighted: bool = False, seed: str | None = None,
               user_id: int | None = None, county_ids: list[int] | None = None) -> DrawOutcome:
    """One draw per contract and service type in scope (of `county_ids`, None: every county); a scope already drawn, or without
    records, is skipped with the reason. Only a finished quarter is drawn, so that no record
    of it can be added once the sample is known."""
    contracts = check_draw_request(purpose, quarter, today=today, contract_id=contract_id,
                                   service_type=service_type, seed=seed, county_ids=county_ids)
    seed = check_seed(seed)
    outcome = DrawOutcome()
    for contract in contracts:
        standard = standard_for(contract.county_id, today)
        complaints = open_complaints(contract.id) if purpose == SPOT_CHECK else []
        for line_type in sorted(contract.service_types):
            if service_type is not None and line_type != service_type:
                continue
            made = _draw_one(purpose, quarter, contract, line_type, standard, risk_weighted,
                             seed or new_seed(), user_id, complaints)
            if isinstance(made, str):
                outcome.skipped.append(Skipped(contract, line_type, made))
            else:
                outcome.draws.append(made)
    if contract_id is not None and service_type is not None and not outcome.draws and not outcome.skipped:
        raise DrawError(f"合同不包含{label_of(ServiceType, service_type)}服务")
    return outcome


def _draw_one(purpose: str, quarter: Quarter, contract: Contract, service_type: str,
              standard: StandardTerms | None, risk_weighted: bool, seed: str, user_id: int | None,
              complaints: Sequence[Complaint]) -> SamplingDraw | str:
    """Store one draw, or say why there is none."""
    earlier = existing_draw(purpose, quarter, contract.id, service_type)
    if earlier is not None:
        return f"已抽样（抽样 #{earlier.id}），同一季度同一服务只抽一次"
    evidence: list[EvidenceFlag] = []
    if purpose == SPOT_CHECK:
        population, used = spot_check_population(contract.id, service_type, quarter, complaints)
        population, evidence = with_evidence_targets(population, contract.id, service_type, quarter,
                                                     open_evidence_flags(contract.id, service_type))
    elif purpose == MEDIA_AUDIT:
        population, used = media_audit_population(contract.id, service_type, quarter), []
        if not population:
            return f"{quarter} 没有带照片或签名的{label_of(ServiceType, service_type)}移动端服务记录"
    else:
        population, used = callback_population(contract.id, service_type, quarter), []
    if not population:
        return f"{quarter} 没有{label_of(ServiceType, service_type)}服务记录"
    try:
        params = draw_params(contract, purpose, standard, risk_weighted)
    except ValueError as error:
        raise DrawError(f"合同 {contract.code} 的抽样规则无效：{error}") from None
    result = draw_sample(population, params, seed)
    draw = SamplingDraw(
        purpose=purpose, quarter=str(quarter), contract_id=contract.id, service_type=service_type,
        rule=params_as_dict(params), plan=plan_as_dict(result.plan, params.rule), seed=seed,
        risk_weighted=risk_weighted, population_sha256=result.population_sha256, created_by_id=user_id,
        population=[[item.record_id, item.worker, item.flagged, item.targeted] for item in population],
        strata={size.name: {"population": size.population, "sample": size.sample} for size in result.strata},
    )
    db.session.add(draw)
    db.session.flush()
    draw.items.extend(DrawItem(record_id=item.record_id, stratum=item.stratum, position=position)
                      for position, item in enumerate(result.items, start=1))
    db.session.flush()
    if purpose == CALLBACK:
        _open_call_list(draw)
    for complaint in used:
        complaint.status, complaint.targeted_draw_id = "targeted", draw.id
    for flag in evidence:
        flag.status, flag.targeted_draw_id = "targeted", draw.id
    db.session.flush()
    return draw


def _open_call_list(draw: SamplingDraw) -> None:
    subjects = dict(db.session.execute(
        select(CompletionRecord.id, Assignment.subject_id)
        .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .where(CompletionRecord.id.in_([item.record_id for item in draw.items]))).all())
    for item in draw.items:
        db.session.add(Callback(draw_item_id=item.id, record_id=item.record_id, subject_id=subjects[item.record_id],
                                contract_id=draw.contract_id))


@dataclass(frozen=True)
class StoredDrawCheck:
    """A stored draw held against its re-computation, its audit record and today's records."""

    draw: SamplingDraw
    result: VerifyResult
    audit_matches: bool
    added_since: tuple[int, ...]
    removed_since: tuple[int, ...]
    messages: tuple[str, ...]

    @property
    def matches(self) -> bool:
        """The stored sample follows from the stored population, rule and seed, all as audited."""
        return self.result.matches and self.audit_matches


_AUDITED_FIELDS = ("seed", "population_sha256", "population", "rule", "risk_weighted")


def _audit_messages(draw: SamplingDraw) -> list[str]:
    """Differences between the row and the audit log's record of its creation (none: empty)."""
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == "SamplingDraw", AuditEvent.object_id == str(draw.id),
        AuditEvent.action == "create")).scalars().first()
    if event is None:
        return ["审计日志中没有该抽样的创建记录"]
    labels = {"seed": "随机种子", "population_sha256": "总体哈希", "population": "冻结总体", "rule": "抽样规则",
              "risk_weighted": "风险加权"}
    return [f"{labels[key]}与审计日志中抽样时的记录不一致" for key in _AUDITED_FIELDS
            if event.changes.get(key) != to_json_value(getattr(draw, key))]


def _current_ids(draw: SamplingDraw) -> set[int]:
    quarter = Quarter.parse(draw.quarter)
    if draw.purpose == CALLBACK:
        return {item.record_id for item in callback_population(draw.contract_id, draw.service_type, quarter)}
    if draw.purpose == MEDIA_AUDIT:
        return {item.record_id for item in media_audit_population(draw.contract_id, draw.service_type, quarter)}
    rows = db.session.execute(_quarter_records(draw.contract_id, draw.service_type, quarter)).all()
    targeted_earlier = db.session.execute(select(CompletionRecord.id).join(
        EvidenceFlag, EvidenceFlag.record_id == CompletionRecord.id).where(EvidenceFlag.targeted_draw_id == draw.id))
    return {row.id for row in rows} | set(targeted_earlier.scalars())


def verify_stored_draw(draw: SamplingDraw) -> StoredDrawCheck:
    """Re-compute a stored draw; it matches when population hash, sample and audit record agree.
    Records of the quarter added or removed since the draw are reported, not counted against it."""
    stored_items = [(item.record_id, item.stratum) for item in draw.items]
    result = verify_draw(stored_population(draw), stored_params(draw), draw.seed, draw.population_sha256,
                         stored_items)
    audit = _audit_messages(draw)
    frozen = {row[0] for row in draw.population}
    current = _current_ids(draw)
    added, removed = tuple(sorted(current - frozen)), tuple(sorted(frozen - current))
    messages = list(result.messages) + audit
    if added or removed:
        messages.append(f"提示：该季度的记录在抽样后有变化（新增 {len(added)} 条，删除 {len(removed)} 条），"
                        "不影响本次抽样的复核")
    return StoredDrawCheck(draw, result, not audit, added, removed, tuple(messages))


def draw_as_json(draw: SamplingDraw) -> dict:
    """The draw as `flask draw --json` prints it."""
    return {
        "id": draw.id,
        "contract": draw.contract.code,
        "service_type": draw.service_type,
        "purpose": draw.purpose.replace("_", "-"),
        "plan": {key: draw.plan.get(key) for key in ("kind", "n", "ac", "re")},
        "seed": draw.seed,
        "population_size": len(draw.population),
        "population_sha256": draw.population_sha256,
        "items": [{"record_id": item.record_id, "stratum": item.stratum} for item in draw.items],
    }


def strata_rows(draw: SamplingDraw) -> list[tuple[str, int, int]]:
    """(stratum, population, sample) in reporting order."""
    return [(name, draw.strata.get(name, {}).get("population", 0), draw.strata.get(name, {}).get("sample", 0))
            for name in STRATA]


def list_draws(quarter: str | None = None, contract_id: int | None = None, purpose: str | None = None):
    """The draws query, newest first."""
    stmt = select(SamplingDraw)
    if quarter:
        stmt = stmt.where(SamplingDraw.quarter == quarter)
    if contract_id:
        stmt = stmt.where(SamplingDraw.contract_id == contract_id)
    if purpose:
        stmt = stmt.where(SamplingDraw.purpose == purpose)
    return stmt.order_by(SamplingDraw.id.desc())

