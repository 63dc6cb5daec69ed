"""The city dashboard's chart: each county's spot-check pass rate with its 95 % Wilson interval,
and the city's pooled from the summed counts. Reads the figures it is given and never queries."""
from __future__ import annotations

from matplotlib.figure import Figure

from ..domain.city_figures import CityFigures
from ..domain.statistics import Rate
from . import new_figure, to_png


def pass_rates_figure(figures: CityFigures, city_name: str, quarter: str) -> Figure:
    """Bars of the counties' pass rates and the pooled one (counties without checks left out)."""
    figure = new_figure(7.0, 3.6)
    axes = figure.add_subplot()
    bars: list[tuple[str, Rate, str]] = [(row.name, row.pass_rate, "#1d5fa7") for row in figures.rows]
    bars.append((f"{city_name}合计", figures.pooled_pass_rate, "#2e7d32"))
    bars = [bar for bar in bars if bar[1].has_data]
    names = [name for name, _, _ in bars]
    values = [rate.value * 100 for _, rate, _ in bars]
    errors = [[(rate.value - rate.low) * 100 for _, rate, _ in bars],
              [(rate.high - rate.value) * 100 for _, rate, _ in bars]]
    axes.bar(names, values, yerr=errors, capsize=5, color=[colour for _, _, colour in bars])
    for position, (_, rate, _) in enumerate(bars):
        axes.annotate(f"{rate.value:.1%}\n({rate.numerator}/{rate.denominator})", (position, rate.value * 100),
                      textcoords="offset points", xytext=(14, -24), ha="left", fontsize="small")
    axes.set_ylim(0, 105)
    axes.set_ylabel("复检合格率（%）")
    axes.set_title(f"{quarter} 各县（区）复检合格率及 95% 置信区间")
    return figure


def pass_rates_png(figures: CityFigures, city_name: str, quarter: str) -> bytes:
    return to_png(pass_rates_figure(figures, city_name, quarter))
