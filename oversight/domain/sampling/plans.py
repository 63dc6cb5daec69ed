"""Sampling plans for spot checks (SPEC section 5): share, hypergeometric, OC curve, lot decision.

The ISO 2859-1 plan lives in `iso2859.py`; every plan is a `SamplingPlan`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

import numpy as np
from scipy.stats import hypergeom

from oversight.domain.vocabulary import SamplingRuleKind

KIND_SHARE = SamplingRuleKind.SHARE
KIND_ISO2859 = SamplingRuleKind.ISO2859
KIND_HYPERGEOMETRIC = SamplingRuleKind.HYPERGEOMETRIC
PLAN_KINDS = SamplingRuleKind.codes()

# Defaults only: the rates in force are set by the admin and passed in.
DEFAULT_SHARE = Decimal("0.05")
DEFAULT_FLOOR = 5
DEFAULT_LIMITING_QUALITY = Decimal("0.10")
DEFAULT_CONSUMER_RISK = Decimal("0.10")

# Where an automatic OC curve stops: the acceptance probability is negligible beyond it.
OC_NEGLIGIBLE_ACCEPTANCE = 0.005


@dataclass(frozen=True)
class SamplingPlan:
    """How many records of a lot to check and, for a lot decision, the acceptance number."""

    kind: str
    lot_size: int
    n: int
    ac: int | None = None
    re: int | None = None
    inspect_all: bool = False
    code_letter: str | None = None
    plan_letter: str | None = None
    aql: Decimal | None = None
    limiting_quality: Decimal | None = None
    consumer_risk: Decimal | None = None
    share: Decimal | None = None
    floor: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def decides_lot(self) -> bool:
        """True when the plan has an acceptance number (ISO 2859-1 and hypergeometric plans)."""
        return self.ac is not None

    def summary(self) -> str:
        """The plan in one Chinese sentence, for the draw page."""
        if self.kind == KIND_SHARE:
            text = (f"按比例抽样：{percent(self.share)}，至少 {self.floor} 条；"
                    f"批量 {self.lot_size}，抽查 {self.n} 条")
        elif self.kind == KIND_ISO2859:
            letters = f"样本量字码 {self.code_letter}"
            if self.plan_letter != self.code_letter:
                letters += f"（按箭头改用字码 {self.plan_letter}）"
            text = (f"ISO 2859-1 正常检验一次抽样，一般检验水平 II，AQL {self.aql}：批量 {self.lot_size}，"
                    f"{letters}，样本量 {self.n}，Ac {self.ac}，Re {self.re}")
        else:
            text = (f"孤立批超几何抽样：极限质量 {percent(self.limiting_quality)}，"
                    f"使用方风险 {percent(self.consumer_risk)}；批量 {self.lot_size}，"
                    f"样本量 {self.n}，Ac {self.ac}，Re {self.re}")
        return text + ("（全检）" if self.inspect_all else "")


def percent(value: Decimal | None) -> str:
    """A share as a Chinese-page percentage: Decimal("0.05") → "5%"."""
    if value is None:
        return ""
    return f"{(Decimal(value) * 100).normalize():f}%"


def as_decimal(value: Decimal | str | int | float, label: str) -> Decimal:
    """A rate given as Decimal, text or number, as a Decimal (a float through its repr)."""
    if isinstance(value, bool):
        raise ValueError(f"{label}不是数值：{value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{label}不是数值：{value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{label}不是有限数值：{value!r}")
    return number


def as_share(value: Decimal | str | int | float, label: str) -> Decimal:
    """A share in (0, 1]."""
    number = as_decimal(value, label)
    if not 0 < number <= 1:
        raise ValueError(f"{label}必须大于 0 且不超过 1，收到 {value}")
    return number


def check_count(value: int, label: str, minimum: int = 0) -> int:
    """An integer count not below minimum."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{label}必须是不小于 {minimum} 的整数，收到 {value!r}")
    return value


def ceil_decimal(value: Decimal) -> int:
    """The smallest integer not below value."""
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def share_sample_size(population_size: int, share: Decimal | str = DEFAULT_SHARE,
                      floor: int = DEFAULT_FLOOR) -> int:
    """ceil(share × N), at least floor, all when the population has fewer."""
    check_count(population_size, "总体数量")
    rate = as_share(share, "抽样比例")
    check_count(floor, "最少抽查数")
    return min(population_size, max(floor, ceil_decimal(rate * population_size)))


def share_plan(population_size: int, share: Decimal | str = DEFAULT_SHARE,
               floor: int = DEFAULT_FLOOR) -> SamplingPlan:
    """The share rule as a plan (no acceptance number: it estimates, it does not decide the lot)."""
    n = share_sample_size(population_size, share, floor)
    inspect_all = n == population_size
    notes = (f"总体仅 {population_size} 条，全部抽查",) if inspect_all and population_size else ()
    return SamplingPlan(kind=KIND_SHARE, lot_size=population_size, n=n, inspect_all=inspect_all,
                        share=as_share(share, "抽样比例"), floor=floor, notes=notes)


def acceptance_probability(lot_size: int, defectives: int, n: int, ac: int) -> float:
    """P(at most ac defectives in a sample of n from a lot of lot_size holding `defectives`)."""
    return float(hypergeom.cdf(ac, lot_size, defectives, n))


def hypergeometric_plan(lot_size: int, limiting_quality: Decimal | str = DEFAULT_LIMITING_QUALITY,
                        consumer_risk: Decimal | str = DEFAULT_CONSUMER_RISK) -> SamplingPlan:
    """Smallest n, and for it the largest Ac, accepting a lot at the limiting quality with P ≤ risk.

    The lot at the limiting quality holds D = ceil(LQ × N) defectives. Search: for n ascending,
    the largest Ac with P(X ≤ Ac) ≤ consumer risk (X hypergeometric); the first n where such an
    Ac ≥ 0 exists wins. Since P(X ≤ Ac) grows with Ac and falls with n, that n is the smallest
    one with P(X = 0) ≤ risk (found by bisection), and the Ac found for it is then always 0:
    P(X_n ≤ 1) ≥ P(X_{n-1} = 0) > risk. A zero-acceptance plan is the price of the smallest n.
    """
    check_count(lot_size, "批量", minimum=1)
    lq = as_share(limiting_quality, "极限质量")
    risk = as_share(consumer_risk, "使用方风险")
    if risk >= 1:
        raise ValueError("使用方风险必须小于 1")
    defectives = ceil_decimal(lq * lot_size)
    beta = float(risk)

    def accepts_within_risk(n: int, ac: int) -> bool:
        return acceptance_probability(lot_size, defectives, n, ac) <= beta

    # n = lot_size always qualifies: with D ≥ 1 defectives a full inspection finds one.
    low, high = 1, lot_size
    while low < high:
        middle = (low + high) // 2
        if accepts_within_risk(middle, 0):
            high = middle
        else:
            low = middle + 1
    n = low
    ac = 0
    while ac + 1 < min(n, defectives) and accepts_within_risk(n, ac + 1):
        ac += 1
    inspect_all = n == lot_size
    notes = (f"样本量等于批量 {lot_size}，全检",) if inspect_all else ()
    return SamplingPlan(kind=KIND_HYPERGEOMETRIC, lot_size=lot_size, n=n, ac=ac, re=ac + 1,
                        inspect_all=inspect_all, limiting_quality=lq, consumer_risk=risk,
                        notes=notes)


def oc_curve(plan: SamplingPlan, lot_size: int | None = None, points: int = 41,
             max_share: Decimal | str | float | None = None) -> list[tuple[float, float]]:
    """Operating characteristic: (lot defect share D/N, exact probability of acceptance) pairs.

    Shares run from 0 to max_share, or when it is None to where acceptance becomes negligible
    (below 0.5 %); each point is a whole number of defectives, so shares are exact and unique.
    """
    if not plan.decides_lot:
        raise ValueError("按比例抽样方案没有接收数，无法绘制抽检特性曲线")
    size = plan.lot_size if lot_size is None else check_count(lot_size, "批量", minimum=1)
    if plan.n > size:
        raise ValueError(f"样本量 {plan.n} 大于批量 {size}")
    check_count(points, "曲线点数", minimum=2)
    all_defectives = np.arange(size + 1)
    probabilities = hypergeom.cdf(plan.ac, size, all_defectives, plan.n)
    if max_share is None:
        negligible = np.nonzero(probabilities < OC_NEGLIGIBLE_ACCEPTANCE)[0]
        last = int(negligible[0]) if negligible.size else size
    else:
        last = math.floor(as_share(max_share, "曲线最大不合格率") * size)
    grid = sorted({round(k * last / (points - 1)) for k in range(points)})
    return [(d / size, float(probabilities[d])) for d in grid]


def lot_accepted(failures: int, plan: SamplingPlan) -> bool:
    """The quarter's lot is accepted when the failures found in the plan's sample are ≤ Ac."""
    check_count(failures, "不合格数")
    if not plan.decides_lot:
        raise ValueError("按比例抽样方案没有接收数，不作批判定")
    return failures <= plan.ac
