"""Performance charts: PNG bytes, the figures they plot, and Chinese text drawn by a font that has the glyphs."""
from datetime import date

import pytest
from matplotlib import font_manager
from matplotlib.text import Text

from oversight.charts import missing_glyphs, to_png
from oversight.charts.performance import (
    contractors_side_by_side,
    contractors_side_by_side_figure,
    indicator_breakdown,
    indicator_breakdown_figure,
    rates_with_intervals,
    rates_with_intervals_figure,
    score_trend,
    score_trend_figure,
)
from oversight.domain.scoring import DEFAULT_SCHEME, Evidence, score_quarter
from oversight.models import Contract, Contractor, KpiScheme, QuarterlyReview
from oversight.services.reviews import figures_for

PNG = b"\x89PNG\r\n\x1a\n"


def make_review(contractor_name, quarter, counts):
    contractor = Contractor(name=contractor_name)
    contract = Contract(code=f"GX-{contractor_name[:2]}", contractor=contractor, term_start=date(2025, 1, 1),
                        term_end=date(2025, 12, 31))
    result = score_quarter(DEFAULT_SCHEME, {key: Evidence(key, *pair) for key, pair in counts.items()})
    scheme = KpiScheme(code="default", version=1, name=DEFAULT_SCHEME.name)
    return QuarterlyReview(contract=contract, quarter=quarter, figures=figures_for(scheme, quarter, result, 45, {}),
                           total_centi=int(result.total * 100), rating=result.rating)


COUNTS = {"completion": (45, 50), "timeliness": (40, 45), "spot_check_pass": (18, 20),
          "field_accuracy": (194, 200), "satisfaction": (8, 10), "authenticity": (9, 10), "rectification": (2, 3)}


@pytest.fixture
def quarters():
    return [make_review("同心社工", f"2025Q{n}", {**COUNTS, "completion": (40 + n, 50)}) for n in (3, 1, 2)]


def drawn_texts(figure):
    """Every non-empty text the rendered figure shows, tick labels and legend included."""
    to_png(figure)
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]


def assert_renders_without_boxes(figure, expected):
    texts = drawn_texts(figure)
    shown = "".join(text.get_text() for text in texts)
    for phrase in expected:
        assert phrase in shown
    for text in texts:
        path = font_manager.findfont(text.get_fontproperties())
        assert missing_glyphs(text.get_text(), path) == set(), (text.get_text(), path)


def test_the_score_trend_plots_the_totals_in_quarter_order(quarters):
    contract = quarters[0].contract
    figure = score_trend_figure(contract, quarters)
    line = figure.axes[0].lines[0]
    assert list(line.get_xdata()) == ["2025Q1", "2025Q2", "2025Q3"]
    assert list(line.get_ydata()) == sorted(float(q.figures.total) for q in quarters)
    assert_renders_without_boxes(figure, ["季度考核得分趋势", "同心社工", "良好线"])
    assert score_trend(contract, quarters).startswith(PNG)


def test_the_breakdown_shows_each_indicator_against_its_weight(quarters):
    review = quarters[0]
    figure = indicator_breakdown_figure(review)
    bars = figure.axes[0].patches
    scores = [bar.get_width() for bar in bars[7:]]
    assert scores == [float(item.score) for item in reversed(review.figures.indicators)]
    assert_renders_without_boxes(figure, ["任务完成率", "整改按时率", "指标得分"])
    assert indicator_breakdown(review).startswith(PNG)


def test_no_data_indicators_are_named_so_in_the_breakdown():
    review = make_review("明德", "2025Q3", {"completion": (45, 50), "timeliness": (40, 45)})
    assert_renders_without_boxes(indicator_breakdown_figure(review), ["抽查合格率（无数据）"])


def test_rates_carry_their_wilson_intervals(quarters):
    figure = rates_with_intervals_figure(quarters)
    container = figure.axes[0].containers[0]  # spot-check pass: 18/20 in each quarter
    assert list(container.lines[0].get_ydata()) == pytest.approx([90.0] * 3)
    # Wilson 95 % for 18/20: 0.6990 … 0.9721
    low_caps, high_caps = container.lines[1][0].get_ydata(), container.lines[1][1].get_ydata()
    assert low_caps[0] == pytest.approx(69.90, abs=0.01) and high_caps[0] == pytest.approx(97.21, abs=0.01)
    assert_renders_without_boxes(figure, ["抽查合格率", "回访满意率", "95%置信区间", "18/20"])
    assert rates_with_intervals(quarters).startswith(PNG)


def test_rates_without_checks_say_so():
    review = make_review("明德", "2025Q3", {"completion": (45, 50)})
    assert_renders_without_boxes(rates_with_intervals_figure([review]), ["暂无抽查与回访数据"])


def test_contractors_side_by_side():
    reviews = [make_review("同心社工", "2025Q3", COUNTS),
               make_review("明德社会工作服务中心", "2025Q3", {**COUNTS, "spot_check_pass": (20, 20)})]
    figure = contractors_side_by_side_figure(reviews)
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    # spot-check pass earned 80 % of its weight for the first, 100 % for the second; last bars are totals
    assert heights[2] == pytest.approx(80.0) and heights[8 + 2] == pytest.approx(100.0)
    assert heights[7] == float(reviews[0].figures.total) and heights[15] == float(reviews[1].figures.total)
    assert_renders_without_boxes(figure, ["承接机构考核对比", "明德社会工作服务中心（2025Q3）", "总分"])
    assert contractors_side_by_side(reviews).startswith(PNG)


def test_the_glyph_check_would_catch_a_latin_only_font():
    latin = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    assert missing_glyphs("得分", latin) == {"得", "分"}
