"""Charts of the spot-check pages: a plan's OC curve, and rates with their Wilson intervals."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..domain.sampling import KIND_HYPERGEOMETRIC, SamplingPlan, oc_curve
from ..domain.statistics import Rate
from . import new_figure, to_png

OC_TITLE = "抽检特性曲线（OC 曲线）"


def oc_curve_png(plan: SamplingPlan) -> bytes:
    """Probability of accepting the lot against its defect share, with the plan's quality marks."""
    points = oc_curve(plan, points=61)
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    axes.plot([share * 100 for share, _ in points], [p * 100 for _, p in points], color="#a8262d", linewidth=2,
              label=f"n={plan.n}，Ac={plan.ac}，Re={plan.re}")
    if plan.kind == KIND_HYPERGEOMETRIC:
        lq, risk = float(plan.limiting_quality) * 100, float(plan.consumer_risk) * 100
        axes.axvline(lq, color="#6b7785", linestyle="--", linewidth=1)
        axes.axhline(risk, color="#6b7785", linestyle=":", linewidth=1)
        axes.annotate(f"极限质量 {lq:g}%，使用方风险 {risk:g}%", (lq, risk), textcoords="offset points",
                      xytext=(8, 10), fontsize=9)
    elif plan.aql is not None:
        aql = float(plan.aql)
        axes.axvline(aql, color="#6b7785", linestyle="--", linewidth=1)
        axes.annotate(f"AQL {plan.aql}", (aql, 50), textcoords="offset points", xytext=(6, 0), fontsize=9)
    axes.set_title(OC_TITLE)
    axes.set_xlabel(f"批不合格率（%，批量 {plan.lot_size}）")
    axes.set_ylabel("接收概率（%）")
    axes.set_ylim(0, 102)
    axes.set_xlim(left=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right")
    return to_png(figure)


def _bars(axes, labels: Sequence[str], rates: Sequence[Rate], colour: str, title: str) -> None:
    positions = list(range(len(labels)))
    values = [(rate.value or 0) * 100 for rate in rates]
    low = [((rate.value or 0) - (rate.low or 0)) * 100 for rate in rates]
    high = [((rate.high or 0) - (rate.value or 0)) * 100 for rate in rates]
    axes.barh(positions, values, xerr=[low, high], color=colour, alpha=0.8, capsize=3)
    ticks = [f"{label}\n{rate.value:.1%}（{rate.numerator}/{rate.denominator}）" if rate.has_data else f"{label}\n无数据"
             for label, rate in zip(labels, rates)]
    axes.set_yticks(positions, ticks, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_title(title, fontsize=11)
    axes.grid(True, axis="x", alpha=0.3)


def results_png(rates: Sequence[tuple[str, Rate]], worker_errors: Sequence[tuple[str, Rate]],
                retrain: Decimal, recheck: Decimal) -> bytes:
    """The quarter's rates (left) and each worker's field error rate against the thresholds (right),
    every bar with its 95 % Wilson interval."""
    height = max(3.2, 0.45 * max(len(rates), len(worker_errors)) + 1.5)
    figure = new_figure(10.0, height)
    left, right = figure.subplots(1, 2)
    _bars(left, [label for label, _ in rates], [rate for _, rate in rates], "#1d5fa7", "各项比率（95% Wilson 区间）")
    left.set_xlabel("%")
    _bars(right, [label for label, _ in worker_errors], [rate for _, rate in worker_errors], "#a86a00",
          "服务人员字段差错率")
    for threshold, label, style in ((retrain, "再培训", "--"), (recheck, "定向复查", ":")):
        right.axvline(float(threshold) * 100, color="#b3261e", linestyle=style, linewidth=1, label=f"{label}阈值")
    right.set_xlabel("%")
    if worker_errors:
        right.legend(loc="lower right", fontsize=8)
    return to_png(figure)
