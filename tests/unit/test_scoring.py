"""KPI scoring of a quarter, rating bands, the contract warning and quarters, against hand-computed values."""
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from oversight.domain.periods import InvalidQuarter, Quarter, quarter_of, quarters_of_year
from oversight.domain.scoring import (
    DEFAULT_BANDS,
    DEFAULT_SCHEME,
    Band,
    Evidence,
    EvidenceError,
    Indicator,
    ManualItem,
    NothingToScore,
    Scheme,
    SchemeError,
    ScoringError,
    apportion,
    consecutive_below,
    rating_for,
    round_half_up,
    score_quarter,
)

D = Decimal

# Every indicator at full marks; tests change only what they are about.
FULL = {
    "completion": (100, 100),
    "timeliness": (100, 100),
    "spot_check_pass": (20, 20),
    "field_accuracy": (200, 200),
    "satisfaction": (20, 20),
    "authenticity": (20, 20),
    "rectification": (2, 2),
}


def evidence(**changes):
    """Evidence per key from FULL with changes; a change to None leaves the indicator out."""
    counts = {**FULL, **changes}
    return {key: Evidence(key, *pair) for key, pair in counts.items() if pair is not None}


def score(manual_items=(), **changes):
    return score_quarter(DEFAULT_SCHEME, evidence(**changes), manual_items)


def scores_of(result):
    return {item.key: item.score for item in result.indicators}


# --- the default scheme ----------------------------------------------------------------------


def test_default_scheme_is_the_table_of_spec_section_6():
    rows = [
        (i.key, i.name, i.weight, i.full_at, i.zero_at, i.full_when_empty) for i in DEFAULT_SCHEME.indicators
    ]
    assert rows == [
        ("completion", "任务完成率", D(25), D("0.98"), D("0.80"), False),
        ("timeliness", "按时完成率", D(10), D("0.95"), D("0.70"), False),
        ("spot_check_pass", "抽查合格率", D(25), D("0.95"), D("0.70"), False),
        ("field_accuracy", "数据准确率", D(10), D("0.98"), D("0.85"), False),
        ("satisfaction", "回访满意率", D(15), D("0.95"), D("0.70"), False),
        ("authenticity", "服务真实率", D(10), D("1.00"), D("0.90"), False),
        ("rectification", "整改按时率", D(5), D("1.00"), D("0.50"), True),
    ]
    assert [(band.rating, band.minimum) for band in DEFAULT_SCHEME.bands] == [
        ("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)
    ]


def test_full_marks_everywhere_make_100():
    result = score()
    assert result.total == D("100.00")
    assert result.rating == "优秀"
    assert all(item.effective_weight == item.weight for item in result.indicators)


# A quarter with a figure for every indicator, worked out by hand below: 75.41.
WORKED = dict(
    completion=(97, 100),
    timeliness=(90, 97),
    spot_check_pass=(19, 20),
    field_accuracy=(190, 200),
    satisfaction=(14, 20),
    authenticity=(19, 20),
    rectification=(1, 1),
)


def test_worked_quarter_with_every_indicator():
    # completion     97/100 = 0.97:  (0.97 − 0.80) / 0.18 = 0.9444… × 25 = 23.611… → 23.61
    # timeliness     90/97 = 0.92783…: (0.92783 − 0.70) / 0.25 = 0.91134… × 10 = 9.113… → 9.11
    # spot check     19/20 = 0.95: exactly full marks → 25.00
    # field accuracy 190/200 = 0.95: (0.95 − 0.85) / 0.13 = 0.76923… × 10 = 7.692… → 7.69
    # satisfaction   14/20 = 0.70: exactly the zero line → 0.00
    # authenticity   19/20 = 0.95: (0.95 − 0.90) / 0.10 = 0.5 × 10 → 5.00
    # rectification  1/1 → 5.00
    # total 23.61 + 9.11 + 25 + 7.69 + 0 + 5 + 5 = 75.41 → 合格
    result = score(**WORKED)
    assert scores_of(result) == {
        "completion": D("23.61"),
        "timeliness": D("9.11"),
        "spot_check_pass": D("25.00"),
        "field_accuracy": D("7.69"),
        "satisfaction": D("0.00"),
        "authenticity": D("5.00"),
        "rectification": D("5.00"),
    }
    assert result.indicator_total == D("75.41")
    assert result.total == D("75.41")
    assert result.rating == "合格"
    timeliness = result.indicator("timeliness")
    assert (timeliness.value, timeliness.numerator, timeliness.denominator) == (D("0.9278"), 90, 97)


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (100, D("25.00")),  # above full marks
        (98, D("25.00")),  # exactly at full marks
        (89, D("12.50")),  # half way: (0.89 − 0.80) / 0.18 = 0.5
        (81, D("1.39")),  # 0.01 / 0.18 × 25 = 1.388…
        (80, D("0.00")),  # exactly at zero
        (79, D("0.00")),  # below zero
        (0, D("0.00")),
    ],
)
def test_completion_is_linear_between_the_zero_and_full_lines_and_clamped(completed, expected):
    assert score(completion=(completed, 100)).indicator("completion").score == expected


def test_authenticity_full_marks_only_at_100_percent():
    # 199/200 = 0.995: (0.995 − 0.90) / 0.10 = 0.95 × 10 = 9.50
    assert score(authenticity=(199, 200)).indicator("authenticity").score == D("9.50")
    assert score(authenticity=(180, 200)).indicator("authenticity").score == D("0.00")


def test_indicator_scores_round_half_up_not_to_even():
    # authenticity 729/800 = 0.91125: 100 × 0.01125 = 1.125 → 1.13 (banker's rounding would give 1.12)
    # timeliness 1169/1600 = 0.730625: 0.030625 / 0.25 × 10 = 1.225 → 1.23 (not 1.22)
    result = score(authenticity=(729, 800), timeliness=(1169, 1600))
    assert result.indicator("authenticity").score == D("1.13")
    assert result.indicator("timeliness").score == D("1.23")


def test_field_accuracy_is_one_minus_the_field_error_rate():
    # 4 of 200 compared fields differ: error rate 2 %, accuracy 98 % = full marks
    item = Evidence.for_field_accuracy(differing=4, compared=200, record_ids=(7, 8))
    assert (item.numerator, item.denominator, item.record_ids) == (196, 200, (7, 8))
    result = score_quarter(DEFAULT_SCHEME, {**evidence(), "field_accuracy": item})
    assert result.indicator("field_accuracy").score == D("10.00")
    # 26 of 200 differ: accuracy 0.87, (0.87 − 0.85) / 0.13 × 10 = 1.538… → 1.54
    item = Evidence.for_field_accuracy(differing=26, compared=200)
    assert score_quarter(DEFAULT_SCHEME, {**evidence(), "field_accuracy": item}).indicator(
        "field_accuracy"
    ).score == D("1.54")


def test_a_design_based_estimate_scores_instead_of_the_raw_share():
    # Strata 100 records (10 checked, 9 passed) and 20 (10 checked, 5 passed): raw 14/20 = 0.70 is the zero
    # line, but the estimate (100 × 0.9 + 20 × 0.5) / 120 = 5/6 scores 25 × (5/6 − 0.70) / 0.25 = 25 × 8/15
    # = 13.333… → 13.33.
    item = Evidence("spot_check_pass", 14, 20, record_ids=(1, 2), estimate=Fraction(5, 6))
    result = score_quarter(DEFAULT_SCHEME, {**evidence(), "spot_check_pass": item})
    scored = result.indicator("spot_check_pass")
    assert scored.score == D("13.33") and scored.value == D("0.8333")
    assert (scored.numerator, scored.denominator, scored.estimated) == (14, 20, True)
    assert score_quarter(DEFAULT_SCHEME, {**evidence(), "spot_check_pass": Evidence("spot_check_pass", 14, 20)}
                         ).indicator("spot_check_pass").score == D("0.00")
    # Field accuracy: 26 of 200 fields differ (0.87 raw), estimated at 0.93: (0.93 − 0.85) / 0.13 × 10 = 6.153… → 6.15
    fields = Evidence.for_field_accuracy(differing=26, compared=200, estimate=Fraction(93, 100))
    assert score_quarter(DEFAULT_SCHEME, {**evidence(), "field_accuracy": fields}).indicator(
        "field_accuracy").score == D("6.15")


@pytest.mark.parametrize("estimate", [Fraction(-1, 10), Fraction(11, 10)])
def test_an_estimate_outside_zero_and_one_is_refused(estimate):
    with pytest.raises(EvidenceError):
        Evidence("spot_check_pass", 1, 2, estimate=estimate)


def test_an_estimate_needs_a_sample_and_is_exact():
    with pytest.raises(EvidenceError):
        Evidence("spot_check_pass", 0, 0, estimate=Fraction(1, 2))
    with pytest.raises(TypeError):
        Evidence("spot_check_pass", 1, 2, estimate=0.5)


def test_record_ids_are_carried_to_the_result():
    spot_checks = Evidence("spot_check_pass", 1, 2, record_ids=(3, 4))
    result = score_quarter(DEFAULT_SCHEME, {**evidence(), "spot_check_pass": spot_checks})
    assert result.indicator("spot_check_pass").record_ids == (3, 4)


# --- no data ---------------------------------------------------------------------------------


def test_indicators_without_data_have_their_weight_re_spread():
    # No callbacks answered: satisfaction (15) and authenticity (10) have no data; 75 points remain.
    # Effective weights = weight × 100 / 75: 33.333…, 13.333…, 33.333…, 13.333…, 6.666…; to 2
    # decimals by largest remainder they add to 100: rectification (remainder .667) gets the first
    # extra hundredth, completion (first of the .333 ties) the second:
    #   33.34 + 13.33 + 33.33 + 13.33 + 6.67 = 100.00
    # completion     89/100 = 0.89 → 0.5 × 33.34 = 16.67
    # timeliness     33/40 = 0.825 → (0.125 / 0.25) = 0.5 × 13.33 = 6.665 → 6.67
    # spot check     20/20 → 33.33
    # field accuracy 85/100 = 0.85 → zero line → 0.00
    # rectification  3/4 = 0.75 → (0.25 / 0.50) = 0.5 × 6.67 = 3.335 → 3.34
    # total 16.67 + 6.67 + 33.33 + 0 + 3.34 = 60.01 → 合格
    result = score(
        completion=(89, 100),
        timeliness=(33, 40),
        spot_check_pass=(20, 20),
        field_accuracy=(85, 100),
        satisfaction=(0, 0),
        authenticity=None,
        rectification=(3, 4),
    )
    assert {item.key: item.effective_weight for item in result.indicators} == {
        "completion": D("33.34"),
        "timeliness": D("13.33"),
        "spot_check_pass": D("33.33"),
        "field_accuracy": D("13.33"),
        "satisfaction": D("0.00"),
        "authenticity": D("0.00"),
        "rectification": D("6.67"),
    }
    assert sum(item.effective_weight for item in result.indicators) == 100
    assert scores_of(result) == {
        "completion": D("16.67"),
        "timeliness": D("6.67"),
        "spot_check_pass": D("33.33"),
        "field_accuracy": D("0.00"),
        "satisfaction": D("0.00"),
        "authenticity": D("0.00"),
        "rectification": D("3.34"),
    }
    assert result.total == D("60.01")
    assert result.rating == "合格"
    assert result.no_data_keys == ("satisfaction", "authenticity")
    satisfaction = result.indicator("satisfaction")
    assert satisfaction.no_data and satisfaction.value is None and satisfaction.weight == D(15)
    assert "无数据" in satisfaction.note


def test_full_marks_with_re_spread_weights_still_make_100():
    result = score(satisfaction=None, authenticity=None)
    assert result.total == D("100.00")


def test_rectification_without_notices_scores_full_marks():
    result = score(rectification=(0, 0))
    rectification = result.indicator("rectification")
    assert rectification.score == D("5.00")
    assert rectification.value is None
    assert not rectification.no_data
    assert rectification.note == "本季度无此类事项，按满分计"
    assert result.total == D("100.00")


def test_a_quarter_with_no_data_at_all_cannot_be_scored():
    # Rectification's full marks when there are no notices must not turn an empty quarter into 100.
    with pytest.raises(NothingToScore):
        score_quarter(DEFAULT_SCHEME, {})


def test_only_one_indicator_with_data_takes_all_the_weight():
    scheme = Scheme(
        "two",
        1,
        "两项",
        (Indicator("a", "甲", D(50), D("1"), D("0")), Indicator("b", "乙", D(50), D("1"), D("0"))),
    )
    result = score_quarter(scheme, {"a": Evidence("a", 1, 4)})
    assert result.indicator("a").effective_weight == D("100.00")
    assert result.total == D("25.00")


# --- manual items and clamping ---------------------------------------------------------------


def test_manual_items_add_signed_points_to_the_total():
    items = (ManualItem(D("2.5"), "培训记录完整"), ManualItem(D("-5"), "发生一起服务安全事故"))
    result = score(items, **WORKED)
    assert result.manual_total == D("-2.50")
    assert result.total == D("72.91")  # 75.41 + 2.50 − 5.00
    assert result.manual_items == items


def test_a_bonus_can_lift_the_rating():
    result = score((ManualItem(D(5), "人员配备超出合同要求"),), **WORKED)
    assert result.total == D("80.41")
    assert result.rating == "良好"


def test_total_is_clamped_to_100_but_the_raw_total_is_kept():
    result = score((ManualItem(D(3), "获得表扬"),))
    assert result.raw_total == D("103.00")
    assert result.total == D("100.00")


def test_total_is_clamped_to_0():
    zero = {"completion": Evidence("completion", 70, 100), "rectification": Evidence("rectification", 0, 1)}
    result = score_quarter(DEFAULT_SCHEME, zero, (ManualItem(D(-5), "资料缺失"),))
    assert result.raw_total == D("-5.00")
    assert result.total == D("0.00")
    assert result.rating == "不合格"


def test_a_manual_item_needs_a_reason():
    with pytest.raises(ScoringError, match="理由"):
        ManualItem(D(1), "  ")


def test_manual_points_have_at_most_two_decimals_and_are_not_floats():
    with pytest.raises(ScoringError):
        ManualItem(D("0.125"), "x")
    with pytest.raises(TypeError):
        ManualItem(0.5, "x")
    assert ManualItem("1.5", "理由").points == D("1.5")


# --- ratings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "rating"),
    [
        (D("100"), "优秀"),
        (D("90.00"), "优秀"),
        (D("89.99"), "良好"),
        (D("80"), "良好"),
        (D("79.99"), "合格"),
        (D("60"), "合格"),
        (D("59.99"), "不合格"),
        (D("0"), "不合格"),
    ],
)
def test_rating_bands_at_their_boundaries(total, rating):
    assert rating_for(total) == rating


PENALTY = ManualItem(D("-0.01"), "扣分")


@pytest.mark.parametrize(
    ("changes", "manual", "total", "rating"),
    [
        # spot check 17/20 = 0.85 → 0.6 × 25 = 15; 25 + 10 + 15 + 10 + 15 + 10 + 5 = 90
        (dict(spot_check_pass=(17, 20)), (), D("90.00"), "优秀"),
        (dict(spot_check_pass=(17, 20)), (PENALTY,), D("89.99"), "良好"),
        # spot check 15/20 = 0.75 → 0.2 × 25 = 5 → 80
        (dict(spot_check_pass=(15, 20)), (), D("80.00"), "良好"),
        (dict(spot_check_pass=(15, 20)), (PENALTY,), D("79.99"), "合格"),
        # spot check and satisfaction both at 0.70 → 0 → 100 − 25 − 15 = 60
        (dict(spot_check_pass=(14, 20), satisfaction=(14, 20)), (), D("60.00"), "合格"),
        (dict(spot_check_pass=(14, 20), satisfaction=(14, 20)), (PENALTY,), D("59.99"), "不合格"),
    ],
)
def test_scored_quarters_at_the_band_boundaries(changes, manual, total, rating):
    result = score(manual, **changes)
    assert (result.total, result.rating) == (total, rating)


def test_a_lower_total_than_the_last_band_gets_the_last_rating():
    assert rating_for(D("-1"), DEFAULT_BANDS) == "不合格"


# --- scheme validation -----------------------------------------------------------------------


def indicators(**overrides):
    return tuple(
        Indicator(i.key, i.name, overrides.get(i.key, i.weight), i.full_at, i.zero_at, i.full_when_empty)
        for i in DEFAULT_SCHEME.indicators
    )


def test_weights_must_add_up_to_100():
    with pytest.raises(SchemeError, match="权重合计应为100，实际为99"):
        Scheme("x", 1, "方案", indicators(completion=D(24)))


def test_fractional_weights_adding_up_to_100_are_fine():
    scheme = Scheme("x", 1, "方案", indicators(completion=D("24.5"), timeliness=D("10.5")))
    assert sum(i.weight for i in scheme.indicators) == 100


def test_full_marks_line_must_be_above_the_zero_line():
    bad = Indicator("a", "甲", D(100), D("0.80"), D("0.80"))
    with pytest.raises(SchemeError, match="满分线应高于零分线"):
        Scheme("x", 1, "方案", (bad,))


def test_every_problem_of_a_scheme_is_reported_at_once():
    bad = (Indicator("a", "甲", D(60), D("0.5"), D("0.9")), Indicator("a", "", D(0), D("1.2"), D("0")))
    with pytest.raises(SchemeError) as caught:
        Scheme("", 0, "方案", bad)
    problems = caught.value.problems
    assert "方案代码不能为空" in problems
    assert "方案版本号应为正整数" in problems
    assert "指标代码重复：a" in problems
    assert "指标“甲”的满分线应高于零分线" in problems
    assert "指标“a”缺少名称" in problems
    assert "指标“a”的权重应大于0" in problems
    assert "指标“a”的满分线和零分线应在0到1之间（百分比写作小数）" in problems
    assert "各指标权重合计应为100，实际为60" in problems
    assert str(caught.value) == "；".join(problems)


def test_bands_must_descend_and_end_at_zero():
    bands = (Band("好", D(60)), Band("差", D(80)))
    with pytest.raises(SchemeError) as caught:
        Scheme("x", 1, "方案", DEFAULT_SCHEME.indicators, bands)
    assert "评级分数线应从高到低严格递减" in caught.value.problems
    assert "最低一档的分数线应为0" in caught.value.problems


def test_float_weights_are_refused():
    with pytest.raises(TypeError):
        Indicator("a", "甲", 25.0, D("0.98"), D("0.80"))


def test_a_scheme_survives_a_round_trip_through_json_ready_data():
    data = DEFAULT_SCHEME.as_dict()
    assert data["indicators"][0] == {
        "key": "completion",
        "name": "任务完成率",
        "weight": "25",
        "full_at": "0.98",
        "zero_at": "0.80",
        "full_when_empty": False,
    }
    assert Scheme.from_dict(data) == DEFAULT_SCHEME


# --- evidence validation ---------------------------------------------------------------------


def test_a_numerator_above_its_denominator_is_refused():
    with pytest.raises(EvidenceError):
        Evidence("completion", 101, 100)


def test_negative_or_non_integer_counts_are_refused():
    with pytest.raises(EvidenceError):
        Evidence("completion", -1, 100)
    with pytest.raises(TypeError):
        Evidence("completion", 1.0, 100)


def test_evidence_for_an_indicator_the_scheme_lacks_is_refused():
    with pytest.raises(EvidenceError, match="没有这些指标"):
        score_quarter(DEFAULT_SCHEME, {**evidence(), "speed": Evidence("speed", 1, 1)})


def test_evidence_filed_under_another_key_is_refused():
    with pytest.raises(EvidenceError):
        score_quarter(DEFAULT_SCHEME, {**evidence(), "completion": Evidence("timeliness", 1, 1)})


# --- contract warning ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "warned"),
    [
        ([D(85), D("79.99"), D(79)], True),
        ([D(79), D(80), D(79)], False),  # 80 is not under 80
        ([D("79.99")], False),
        ([D(70), None, D(70)], False),  # an unscored quarter breaks the run
        ([], False),
    ],
)
def test_two_quarters_in_a_row_under_80_raise_the_warning(totals, warned):
    assert consecutive_below(totals) is warned


def test_warning_threshold_and_run_are_parameters():
    assert consecutive_below([D(65), D(65)], threshold=D(60)) is False
    assert consecutive_below([D(70), D(70)], run=3) is False
    assert consecutive_below([D(70), D(70), D(70)], run=3) is True


# --- rounding helpers ------------------------------------------------------------------------


def test_round_half_up_rounds_halves_away_from_zero():
    assert round_half_up(Fraction(1225, 1000)) == D("1.23")
    assert round_half_up(Fraction(-1225, 1000)) == D("-1.23")
    assert round_half_up(D("2.345")) == D("2.35")
    assert round_half_up(Fraction(1, 3), 4) == D("0.3333")
    assert round_half_up(Fraction(5, 2), 0) == D(3)


def test_apportion_keeps_the_sum():
    thirds = [Fraction(100, 3)] * 3
    assert apportion(thirds) == (D("33.34"), D("33.33"), D("33.33"))


# --- quarters --------------------------------------------------------------------------------


def test_a_quarter_parses_and_prints_as_2025q3():
    quarter = Quarter.parse(" 2025q3 ")
    assert quarter == Quarter(2025, 3)
    assert str(quarter) == "2025Q3"
    assert (quarter.start, quarter.end) == (date(2025, 7, 1), date(2025, 9, 30))


@pytest.mark.parametrize(
    ("number", "start", "end"),
    [
        (1, date(2024, 1, 1), date(2024, 3, 31)),
        (2, date(2024, 4, 1), date(2024, 6, 30)),
        (3, date(2024, 7, 1), date(2024, 9, 30)),
        (4, date(2024, 10, 1), date(2024, 12, 31)),
    ],
)
def test_quarter_boundaries(number, start, end):
    quarter = Quarter(2024, number)
    assert (quarter.start, quarter.end) == (start, end)
    assert quarter_of(start) == quarter_of(end) == quarter
    assert quarter.contains(start) and quarter.contains(end)
    assert not quarter.contains(start - timedelta(days=1))
    assert not quarter.contains(end + timedelta(days=1))


def test_previous_and_next_cross_years():
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2025, 2).next().previous() == Quarter(2025, 2)


def test_quarters_sort_in_time_order():
    assert sorted([Quarter(2025, 1), Quarter(2024, 4), Quarter(2024, 2)]) == [
        Quarter(2024, 2), Quarter(2024, 4), Quarter(2025, 1)
    ]
    assert quarters_of_year(2025) == tuple(Quarter(2025, n) for n in (1, 2, 3, 4))


@pytest.mark.parametrize("text", ["2025Q5", "2025Q0", "25Q1", "2025-03", ""])
def test_malformed_quarters_are_refused(text):
    with pytest.raises(InvalidQuarter):
        Quarter.parse(text)
