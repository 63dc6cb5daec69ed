"""Verifiable, seeded, stratified spot-check draws (SPEC section 5).

Population hash: SHA-256 of the record ids sorted ascending, each written as `str(int)` in ASCII
(decimal, no leading zeros), joined by a single b"\n", no trailing newline (an empty population
hashes b""); lower-case hex digest.

Randomness: every record gets a draw key, SHA-256 of the UTF-8 text
"{seed}|{population_sha256}|{record_id}"; within a stratum (or a worker's cell of the random
stratum) the records with the smallest keys are drawn (ties, which SHA-256 makes practically
impossible, by record id). This is a uniform draw without replacement that depends only on the
seed and the population, not on Python's `random` internals nor on the order strata or workers
are visited, so anyone can re-compute a past draw, years later and with any tool.

Strata, in their reporting order:
- "targeted": records added because of a complaint or a contradiction with verification data; all
  drawn, reported apart, never estimated;
- "flagged": anomaly-flagged records, only when the draw is risk-weighted; drawn at a higher rate
  (the rate given, or a multiple, default 3, of the random stratum's sampling fraction; at
  most all);
- "random": the rest. Its sample size is the n of the rule's plan computed on the random
  stratum's size, split over field workers (in worker-code order) proportionally with largest
  remainders and at least one each; when n is below the number of workers, n is raised to it.

The plan's lot is the random stratum: a lot decision (failures ≤ Ac) counts the failures among
the random items only, the sample the plan's operating characteristic describes. Flagged records
enter the pass-rate estimate with their own weight; targeted records enter neither.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from oversight.domain.estimates import StratumSample, cell_strata
from oversight.domain.sampling.iso2859 import aql_column, iso2859_plan
from oversight.domain.sampling.plans import (
    DEFAULT_CONSUMER_RISK,
    DEFAULT_FLOOR,
    DEFAULT_LIMITING_QUALITY,
    DEFAULT_SHARE,
    KIND_HYPERGEOMETRIC,
    KIND_ISO2859,
    KIND_SHARE,
    PLAN_KINDS,
    SamplingPlan,
    as_decimal,
    as_share,
    hypergeometric_plan,
    share_plan,
)
from oversight.domain.statistics import PassRateEstimate, stratified_pass_rate
from oversight.domain.vocabulary import Stratum

STRATUM_TARGETED = Stratum.TARGETED
STRATUM_FLAGGED = Stratum.FLAGGED
STRATUM_RANDOM = Stratum.RANDOM
STRATA = tuple(Stratum)

DEFAULT_FLAGGED_MULTIPLIER = Decimal(3)


@dataclass(frozen=True)
class PopulationItem:
    """One completed record of the frozen population."""

    record_id: int
    worker: str
    flagged: bool = False
    targeted: bool = False


@dataclass(frozen=True)
class DrawParams:
    """The sampling rule of a draw; rates come from the admin's settings, these are defaults."""

    rule: str = KIND_SHARE
    share: Decimal | str = DEFAULT_SHARE
    floor: int = DEFAULT_FLOOR
    aql: Decimal | str | None = None
    limiting_quality: Decimal | str = DEFAULT_LIMITING_QUALITY
    consumer_risk: Decimal | str = DEFAULT_CONSUMER_RISK
    risk_weighted: bool = False
    flagged_share: Decimal | str | None = None
    flagged_multiplier: Decimal | str = DEFAULT_FLAGGED_MULTIPLIER

    def __post_init__(self) -> None:
        if self.rule not in PLAN_KINDS:
            raise ValueError(f"未知的抽样规则：{self.rule}")
        if self.rule == KIND_ISO2859:
            if self.aql is None:
                raise ValueError("ISO 2859-1 抽样需要给出 AQL")
            aql_column(self.aql)
        as_share(self.share, "抽样比例")
        if self.flagged_share is not None:
            as_share(self.flagged_share, "异常记录抽样比例")
        if as_decimal(self.flagged_multiplier, "异常记录加权倍数") < 1:
            raise ValueError("异常记录加权倍数不能小于 1")

    def plan_for(self, lot_size: int) -> SamplingPlan:
        """The rule's plan for a lot of this size."""
        if self.rule == KIND_ISO2859:
            return iso2859_plan(lot_size, self.aql)
        if self.rule == KIND_HYPERGEOMETRIC:
            return hypergeometric_plan(lot_size, self.limiting_quality, self.consumer_risk)
        return share_plan(lot_size, self.share, self.floor)


@dataclass(frozen=True)
class Allocation:
    """Population and sample size of a stratum, or of a field worker within the random stratum."""

    name: str
    population: int
    sample: int


@dataclass(frozen=True)
class DrawnItem:
    """A drawn record, the stratum it was drawn in and its field worker."""

    record_id: int
    stratum: str
    worker: str

    @property
    def key(self) -> tuple[int, str]:
        """(record id, stratum): what a stored draw must reproduce."""
        return self.record_id, self.stratum


@dataclass(frozen=True)
class DrawResult:
    """A draw: what went in (seed, population hash, plan) and what came out."""

    seed: str
    population_sha256: str
    plan: SamplingPlan | None
    strata: tuple[Allocation, ...]
    workers: tuple[Allocation, ...]
    items: tuple[DrawnItem, ...]
    notes: tuple[str, ...] = ()

    def stratum(self, name: str) -> Allocation:
        """The sizes of one stratum (zero sizes when it is empty)."""
        for size in self.strata:
            if size.name == name:
                return size
        raise ValueError(f"未知的分层：{name}")

    @property
    def record_ids(self) -> tuple[int, ...]:
        """The drawn record ids in the items' order."""
        return tuple(item.record_id for item in self.items)


@dataclass(frozen=True)
class VerifyResult:
    """Whether a stored draw re-computes, and exactly what differs when it does not."""

    matches: bool
    population_matches: bool
    stored_population_sha256: str
    recomputed_population_sha256: str
    missing_items: tuple[tuple[int, str], ...]
    unexpected_items: tuple[tuple[int, str], ...]
    messages: tuple[str, ...]


def new_seed() -> str:
    """A fresh random seed text (128 bits, hex)."""
    return secrets.token_hex(16)


def population_sha256(record_ids: Iterable[int]) -> str:
    """SHA-256 (hex) of the ids sorted ascending, in decimal, joined by newlines."""
    ids = sorted(_check_record_id(record_id) for record_id in record_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("总体中有重复的记录编号")
    canonical = b"\n".join(str(record_id).encode("ascii") for record_id in ids)
    return hashlib.sha256(canonical).hexdigest()


def draw_key(seed: str, population_hash: str, record_id: int) -> bytes:
    """The record's draw key; the smallest keys of a stratum are drawn."""
    return hashlib.sha256(f"{seed}|{population_hash}|{record_id}".encode()).digest()


def draw_sample(population: Sequence[PopulationItem], params: DrawParams, seed: str) -> DrawResult:
    """Draw the spot-check sample; the same seed and population always give the same result."""
    if not isinstance(seed, str) or not seed:
        raise ValueError("随机种子不能为空")
    for item in population:
        if not isinstance(item.worker, str) or not item.worker:
            raise ValueError(f"记录 {item.record_id} 没有服务人员工号")
    population_hash = population_sha256(item.record_id for item in population)
    targeted = [item for item in population if item.targeted]
    flagged = [item for item in population if params.risk_weighted and item.flagged
               and not item.targeted]
    random_part = [item for item in population if not item.targeted
                   and not (params.risk_weighted and item.flagged)]

    def smallest_keys(items: Sequence[PopulationItem], k: int) -> list[PopulationItem]:
        ranked = sorted(items, key=lambda item: (draw_key(seed, population_hash, item.record_id),
                                                 item.record_id))
        return ranked[:k]

    notes: list[str] = []
    plan = params.plan_for(len(random_part)) if random_part else None
    random_sample, workers, random_notes = _draw_random_stratum(random_part, plan, smallest_keys)
    notes.extend(random_notes)

    flagged_sample: list[PopulationItem] = []
    if flagged:
        rate = _flagged_rate(params, len(random_part), len(random_sample), len(flagged))
        size = min(len(flagged), math.ceil(rate * len(flagged)))
        flagged_sample = smallest_keys(flagged, size)
        notes.append(f"异常标记记录 {len(flagged)} 条，按 {float(rate):.1%} 抽取 {size} 条")
    if targeted:
        notes.append(f"因投诉或核对数据疑点定向抽查 {len(targeted)} 条，单独报告，不计入合格率估计")

    drawn = {STRATUM_TARGETED: targeted, STRATUM_FLAGGED: flagged_sample,
             STRATUM_RANDOM: random_sample}
    sizes = {STRATUM_TARGETED: len(targeted), STRATUM_FLAGGED: len(flagged),
             STRATUM_RANDOM: len(random_part)}
    items = tuple(
        DrawnItem(item.record_id, stratum, item.worker)
        for stratum in STRATA
        for item in sorted(drawn[stratum], key=lambda item: item.record_id)
    )
    strata = tuple(Allocation(stratum, sizes[stratum], len(drawn[stratum])) for stratum in STRATA)
    return DrawResult(seed=seed, population_sha256=population_hash, plan=plan, strata=strata,
                      workers=workers, items=items, notes=tuple(notes))


def allocate_by_worker(counts: Mapping[str, int], n: int) -> dict[str, int]:
    """Split n over workers proportionally (largest remainders), at least 1 and at most all each.

    Requires len(counts) ≤ n ≤ sum(counts). Ties go to the worker code sorted first.
    """
    workers = sorted(counts)
    total = sum(counts.values())
    if not len(workers) <= n <= total:
        raise ValueError(f"样本量 {n} 必须在服务人员数 {len(workers)} 与记录数 {total} 之间")
    quota = {worker: Fraction(n * counts[worker], total) for worker in workers}
    allocation = {worker: max(1, math.floor(quota[worker])) for worker in workers}
    excess = sum(allocation.values()) - n
    # Raising small quotas to one can overshoot n: take back from the most over-served workers.
    while excess > 0:
        worker = min((w for w in workers if allocation[w] > 1),
                     key=lambda w: (quota[w] - allocation[w], workers.index(w)))
        allocation[worker] -= 1
        excess -= 1
    while excess < 0:
        worker = max((w for w in workers if allocation[w] < counts[w]),
                     key=lambda w: (quota[w] - allocation[w], -workers.index(w)))
        allocation[worker] += 1
        excess += 1
    return allocation


def _draw_random_stratum(
    random_part: Sequence[PopulationItem], plan: SamplingPlan | None,
    smallest_keys: Callable[[Sequence[PopulationItem], int], list[PopulationItem]],
) -> tuple[list[PopulationItem], tuple[Allocation, ...], tuple[str, ...]]:
    """The random stratum's sample, its worker allocations and notes."""
    if plan is None:
        return [], (), ()
    by_worker: dict[str, list[PopulationItem]] = {}
    for item in random_part:
        by_worker.setdefault(item.worker, []).append(item)
    notes = list(plan.notes)
    n = plan.n
    if n < len(by_worker):
        notes.append(f"按方案应抽 {n} 条，少于有记录的服务人员数 {len(by_worker)}，"
                     f"已提高到 {len(by_worker)} 条，保证每名服务人员至少抽查一条")
        n = len(by_worker)
    allocation = allocate_by_worker({w: len(items) for w, items in by_worker.items()}, n)
    sample: list[PopulationItem] = []
    workers = []
    for worker in sorted(by_worker):
        sample.extend(smallest_keys(by_worker[worker], allocation[worker]))
        workers.append(Allocation(worker, len(by_worker[worker]), allocation[worker]))
    return sample, tuple(workers), tuple(notes)


def _flagged_rate(params: DrawParams, random_size: int, random_sample: int,
                  flagged_size: int) -> Fraction:
    """The flagged stratum's sampling fraction: as set, or multiplier × the base rate, at most 1."""
    if params.flagged_share is not None:
        return Fraction(as_share(params.flagged_share, "异常记录抽样比例"))
    if random_size:
        base = Fraction(random_sample, random_size)
    else:
        base = Fraction(params.plan_for(flagged_size).n, flagged_size)
    return min(Fraction(1), Fraction(as_decimal(params.flagged_multiplier, "异常记录加权倍数")) * base)


def verify_draw(population: Sequence[PopulationItem], params: DrawParams, seed: str,
                stored_population_sha256: str,
                stored_items: Iterable[DrawnItem | tuple[int, str]]) -> VerifyResult:
    """Re-compute a past draw and compare the population hash and the (record, stratum) pairs."""
    recomputed = draw_sample(population, params, seed)
    stored = {_item_key(item) for item in stored_items}
    fresh = {item.key for item in recomputed.items}
    missing = tuple(sorted(stored - fresh))
    unexpected = tuple(sorted(fresh - stored))
    population_matches = recomputed.population_sha256 == stored_population_sha256
    messages = []
    if not population_matches:
        messages.append(f"总体哈希不一致：记录为 {stored_population_sha256}，"
                        f"重新计算为 {recomputed.population_sha256}，总体记录已变化")
    if missing:
        messages.append("原抽样结果中有、重新计算没有的记录：" + _describe(missing))
    if unexpected:
        messages.append("重新计算抽中、原抽样结果中没有的记录：" + _describe(unexpected))
    matches = population_matches and not missing and not unexpected
    if matches:
        messages.append(f"复核一致：总体 {len(population)} 条，抽中 {len(fresh)} 条，与原抽样结果相同")
    return VerifyResult(matches=matches, population_matches=population_matches,
                        stored_population_sha256=stored_population_sha256,
                        recomputed_population_sha256=recomputed.population_sha256,
                        missing_items=missing, unexpected_items=unexpected,
                        messages=tuple(messages))


def cell_of(stratum: str, worker: str) -> str:
    """The estimation cell of a drawn record: its worker's cell of the random stratum (the random
    stratum is allocated over workers, each cell drawn at its own rate), or its stratum."""
    return f"{STRATUM_RANDOM}:{worker}" if stratum == STRATUM_RANDOM else stratum


@dataclass(frozen=True)
class FrozenCells:
    """A frozen population as the estimates read it: each record's worker, and the records per
    estimation cell split as `draw_sample` splits them."""

    workers: Mapping[int, str]
    sizes: Mapping[str, int]

    @classmethod
    def of_stored(cls, entries: Iterable[Sequence], risk_weighted: bool) -> FrozenCells:
        """From a draw's stored population entries, `(record id, worker, flagged, targeted)`
        each: a quarter's draws freeze tens of thousands of records, too many to make each a
        `PopulationItem` first."""
        workers: dict[int, str] = {}
        sizes: dict[str, int] = {}
        random_cells: dict[str, str] = {}  # worker → its cell of the random stratum
        for record_id, worker, flagged, targeted in entries:
            workers[record_id] = worker
            if targeted:
                cell = STRATUM_TARGETED
            elif risk_weighted and flagged:
                cell = STRATUM_FLAGGED
            else:
                cell = random_cells.get(worker)
                if cell is None:
                    cell = random_cells[worker] = cell_of(STRATUM_RANDOM, worker)
            sizes[cell] = sizes.get(cell, 0) + 1
        return cls(workers, sizes)

    @classmethod
    def of(cls, population: Iterable[PopulationItem], risk_weighted: bool) -> FrozenCells:
        return cls.of_stored(((item.record_id, item.worker, item.flagged, item.targeted) for item in population),
                             risk_weighted)

    def strata(self, checks: Iterable[tuple[int, str, int, int]]) -> list[StratumSample]:
        """The strata for `design_estimate` from the checks as (record id, stratum, successes,
        trials); the targeted stratum is marked to stay apart."""
        units = []
        for record_id, stratum, successes, trials in checks:
            if record_id not in self.workers:
                raise ValueError(f"记录 {record_id} 不在该次抽样的冻结总体中")
            units.append((cell_of(stratum, self.workers[record_id]), successes, trials))
        return cell_strata(self.sizes, units, targeted=(STRATUM_TARGETED,))


def population_cells(population: Iterable[PopulationItem], risk_weighted: bool) -> dict[str, int]:
    """Records per estimation cell of a frozen population, split as `draw_sample` splits it."""
    return dict(FrozenCells.of(population, risk_weighted).sizes)


def draw_strata(population: Sequence[PopulationItem], risk_weighted: bool,
                  checks: Iterable[tuple[int, str, int, int]]) -> list[StratumSample]:
    """The strata of a stored draw for `design_estimate`, from its frozen population and its checks
    as (record id, stratum, successes, trials); the targeted stratum is marked to stay apart."""
    return FrozenCells.of(population, risk_weighted).strata(checks)


def sample_pass_rate(draw: DrawResult, passed: Mapping[int, bool]) -> PassRateEstimate:
    """Pass-rate estimate of a draw: each worker cell of the random stratum and the flagged
    stratum weighted by its population size; targeted records are left out.

    `passed` maps checked record ids to their verdict; drawn records not in it are not yet checked.
    Every cell must have a verdict (see `draw_strata` and `design_estimate` for the estimate that leaves unchecked
    cells out and says so).
    """
    cells: dict[str, list[int]] = {}
    for item in draw.items:
        if item.stratum != STRATUM_TARGETED:
            cells.setdefault(cell_of(item.stratum, item.worker), []).append(item.record_id)
    sizes = {cell_of(STRATUM_RANDOM, w.name): w.population for w in draw.workers}
    sizes[STRATUM_FLAGGED] = draw.stratum(STRATUM_FLAGGED).population
    strata = []
    for cell, size in sizes.items():
        verdicts = [passed[record_id] for record_id in cells.get(cell, ()) if record_id in passed]
        strata.append((size, len(verdicts), sum(verdicts)))
    return stratified_pass_rate(strata)


def _check_record_id(record_id: int) -> int:
    if isinstance(record_id, bool) or not isinstance(record_id, int):
        raise ValueError(f"记录编号必须是整数，收到 {record_id!r}")
    return record_id


def _item_key(item: DrawnItem | tuple[int, str]) -> tuple[int, str]:
    if isinstance(item, DrawnItem):
        return item.key
    record_id, stratum = item
    return _check_record_id(record_id), stratum


def _describe(items: Sequence[tuple[int, str]]) -> str:
    return "、".join(f"{record_id}（{Stratum.labels().get(stratum, stratum)}）"
                    for record_id, stratum in items)
