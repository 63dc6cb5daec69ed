"""Performance charts as PNG bytes: score trend, indicator breakdown, rates with their Wilson
intervals, contractors side by side. They read reviews' stored figures and never query."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from matplotlib.figure import Figure

from ..domain.figures import IndicatorFigures
from ..domain.statistics import Rate
from ..models import Contract, QuarterlyReview
from . import new_figure, to_png

INTERVAL_KEYS = ("spot_check_pass", "satisfaction", "authenticity")
BAND_LINES = ((Decimal(90), "优秀线", "#2e7d32"), (Decimal(80), "良好线", "#f9a825"), (Decimal(60), "合格线", "#c62828"))


def _percent(value: Decimal | float) -> float:
    return float(value) * 100


def _band_lines(axes) -> None:
    for level, label, colour in BAND_LINES:
        axes.axhline(float(level), color=colour, linestyle="--", linewidth=0.8, label=label)


def score_trend_figure(contract: Contract, reviews: Sequence[QuarterlyReview]) -> Figure:
    """The contract's quarterly totals in quarter order, against the rating lines."""
    figure = new_figure()
    axes = figure.add_subplot()
    ordered = sorted(reviews, key=lambda review: review.quarter)
    quarters = [review.quarter for review in ordered]
    totals = [float(review.figures.total) for review in ordered]
    axes.plot(quarters, totals, marker="o", color="#1d5fa7", label="季度得分")
    for quarter, total in zip(quarters, totals):
        axes.annotate(f"{total:.2f}", (quarter, total), textcoords="offset points", xytext=(0, 6), ha="center")
    _band_lines(axes)
    axes.set_ylim(0, 105)
    axes.set_ylabel("得分")
    axes.set_title(f"季度考核得分趋势：{contract.code} {contract.contractor.name}")
    axes.legend(loc="lower left", fontsize="small")
    return figure


def indicator_breakdown_figure(review: QuarterlyReview) -> Figure:
    """Each indicator's score against the weight it carried (no-data indicators marked)."""
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    items = list(reversed(review.figures.indicators))
    names = [item.name + ("（无数据）" if item.no_data else "") for item in items]
    weights = [float(item.effective_weight) for item in items]
    scores = [float(item.score) for item in items]
    axes.barh(names, weights, color="#e3e8ee", label="有效权重")
    axes.barh(names, scores, color="#1d5fa7", label="得分")
    for position, (score, weight) in enumerate(zip(scores, weights)):
        axes.text(weight, position, f" {score:.2f} / {weight:.2f}", va="center", fontsize="small")
    axes.set_xlim(0, max(weights + [1.0]) * 1.3)
    axes.set_xlabel("分")
    axes.set_title(f"{review.quarter} 指标得分：总分 {review.figures.total}（{review.rating}）")
    axes.legend(loc="lower right", fontsize="small")
    return figure


def rates_with_intervals_figure(reviews: Sequence[QuarterlyReview]) -> Figure:
    """Spot-check pass, satisfaction and authenticity rates per quarter with 95 % Wilson intervals (the
    spot-check pass rate as its design-based estimate and interval where the review stored one)."""
    figure = new_figure()
    axes = figure.add_subplot()
    ordered = sorted(reviews, key=lambda review: review.quarter)
    width = 0.8 / len(INTERVAL_KEYS)
    for offset, key in enumerate(INTERVAL_KEYS):
        xs, values, errors, name = [], [], [[], []], key
        for position, review in enumerate(ordered):
            item = review.figures.indicator(key)
            if item is None or not item.denominator:
                continue
            name = item.name
            rate = Rate.of(item.numerator, item.denominator)
            estimate = item.estimate
            if estimate is not None and estimate.has_data:
                # The KPI's value: the design-based estimate with its own interval (raw k/n annotated below).
                value, low, high = float(estimate.value), float(estimate.low), float(estimate.high)
            else:
                value, low, high = rate.value, rate.low, rate.high
            xs.append(position + (offset - 1) * width)
            values.append(_percent(value))
            errors[0].append(_percent(value - low))
            errors[1].append(_percent(high - value))
            axes.annotate(f"{item.numerator}/{item.denominator}", (xs[-1], _percent(low)),
                          textcoords="offset points", xytext=(0, -12), ha="center", fontsize="x-small")
        if xs:
            axes.errorbar(xs, values, yerr=errors, fmt="o", capsize=4, label=name)
    axes.set_xticks(range(len(ordered)), [review.quarter for review in ordered])
    axes.set_ylim(0, 105)
    axes.set_ylabel("比率（%），竖线为95%置信区间")
    axes.set_title("抽查合格率、回访满意率与服务真实率")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower left", fontsize="small")
    else:
        axes.text(0.5, 0.5, "暂无抽查与回访数据", transform=axes.transAxes, ha="center")
    return figure


def _earned_percent(item: IndicatorFigures | None) -> float:
    """The share of its effective weight an indicator earned, in percent (0 without data)."""
    share = None if item is None else item.earned_share
    return 0.0 if share is None else _percent(share)


def contractors_side_by_side_figure(reviews: Sequence[QuarterlyReview]) -> Figure:
    """Contractors' quarters compared: each indicator's share of its weight earned, and the total."""
    figure = new_figure(8.0, 4.5)
    axes = figure.add_subplot()
    keys = [item.key for item in reviews[0].figures.indicators] if reviews else []
    labels = [item.name for item in reviews[0].figures.indicators] + ["总分"] if reviews else []
    width = 0.8 / max(len(reviews), 1)
    for offset, review in enumerate(reviews):
        heights = [_earned_percent(review.figures.indicator(key)) for key in keys] + [float(review.figures.total)]
        positions = [index + (offset - (len(reviews) - 1) / 2) * width for index in range(len(labels))]
        axes.bar(positions, heights, width=width, label=f"{review.contract.contractor.name}（{review.quarter}）")
    axes.set_xticks(range(len(labels)), labels, rotation=20)
    axes.set_ylim(0, 110)
    axes.set_ylabel("得分率（%）／总分")
    axes.set_title("承接机构考核对比")
    if reviews:
        axes.legend(fontsize="small")
    return figure


def score_trend(contract: Contract, reviews: Sequence[QuarterlyReview]) -> bytes:
    """PNG of `score_trend_figure`."""
    return to_png(score_trend_figure(contract, reviews))


def indicator_breakdown(review: QuarterlyReview) -> bytes:
    """PNG of `indicator_breakdown_figure`."""
    return to_png(indicator_breakdown_figure(review))


def rates_with_intervals(reviews: Sequence[QuarterlyReview]) -> bytes:
    """PNG of `rates_with_intervals_figure`."""
    return to_png(rates_with_intervals_figure(reviews))


def contractors_side_by_side(reviews: Sequence[QuarterlyReview]) -> bytes:
    """PNG of `contractors_side_by_side_figure`."""
    return to_png(contractors_side_by_side_figure(reviews))
