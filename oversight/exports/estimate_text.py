"""A stored design-based estimate (`DesignEstimate.as_dict`) in the words exports and reports use."""
from __future__ import annotations

from decimal import Decimal


def percent(text: str | float | None) -> str:
    """"91.6%" of a stored rate (one decimal)."""
    return "无数据" if text is None or text == "" else f"{Decimal(str(text)) * 100:.1f}%"


def share(pair: dict | None) -> str:
    """"9/11（81.8%）", or "无" when nothing was counted."""
    if not pair or not pair.get("denominator"):
        return "无"
    return f"{pair['numerator']}/{pair['denominator']}（{percent(pair['numerator'] / pair['denominator'])}）"


def interval(estimate: dict) -> str:
    """"58.9%–94.6%", noting a full inspection (no sampling error)."""
    if estimate.get("exact") is None:
        return "无数据"
    text = f"{percent(estimate['low'])}–{percent(estimate['high'])}"
    return f"{text}（全部复检，无抽样误差）" if estimate.get("census") else text


def summary(estimate: dict) -> str:
    """One line: weighted estimate, 95 % interval, the raw k/n and the targeted figure apart."""
    parts = [f"加权估计 {percent(estimate.get('value'))}", f"95% 置信区间 {interval(estimate)}",
             f"样本 k/n {share(estimate.get('sample'))}"]
    if (estimate.get("targeted") or {}).get("denominator"):
        parts.append(f"定向抽查（不计入估计）{share(estimate['targeted'])}")
    if estimate.get("unchecked_population"):
        parts.append(f"{estimate['unchecked_population']} 条记录所在分层尚无复检结果，未计入估计")
    return "；".join(parts)
