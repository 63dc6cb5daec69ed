"""A review's stored design-based estimate (`domain.figures.Estimate`) in the words exports and reports use."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ..domain.figures import Estimate, Share


def percent(rate: Decimal | Fraction | str | float | None) -> str:
    """"91.6%" of a rate (one decimal)."""
    if rate is None or rate == "":
        return "无数据"
    number = Decimal(rate.numerator) / Decimal(rate.denominator) if isinstance(rate, Fraction) else Decimal(str(rate))
    return f"{number * 100:.1f}%"


def share(pair: Share | None) -> str:
    """"9/11（81.8%）", or "无" when nothing was counted."""
    if pair is None or not pair.denominator:
        return "无"
    return f"{pair.numerator}/{pair.denominator}（{percent(pair.value)}）"


def interval(estimate: Estimate) -> str:
    """"58.9%–94.6%", noting a full inspection (no sampling error)."""
    if not estimate.has_data:
        return "无数据"
    text = f"{percent(estimate.low)}–{percent(estimate.high)}"
    return f"{text}（全部复检，无抽样误差）" if estimate.census else text


def summary(estimate: Estimate) -> str:
    """One line: weighted estimate, 95 % interval, the raw k/n and the targeted figure apart."""
    parts = [f"加权估计 {percent(estimate.value)}", f"95% 置信区间 {interval(estimate)}",
             f"样本 k/n {share(estimate.sample)}"]
    if estimate.targeted.denominator:
        parts.append(f"定向抽查（不计入估计）{share(estimate.targeted)}")
    if estimate.unchecked_population:
        parts.append(f"{estimate.unchecked_population} 条记录所在分层尚无复检结果，未计入估计")
    return "；".join(parts)
