"""Typed review and evaluation figures: JSON round trips, rows stored before the types, the standing."""
import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from oversight.domain.estimates import DesignEstimate, StratumSample, design_estimate
from oversight.domain.figures import (
    Estimate,
    EvaluationFigures,
    FiguresError,
    IndicatorFigures,
    ItemFigures,
    Preview,
    ReviewFigures,
    SchemeRef,
    Share,
)
from oversight.domain.periods import Quarter
from oversight.domain.scoring import DEFAULT_SCHEME, Evidence, ManualItem, score_quarter
from oversight.domain.standing import standing

D = Decimal

# A review's figures exactly as the service stored them before they were typed (copied from a row).
STORED_REVIEW = {
    "quarter": "2025Q3",
    "scheme": {"code": "default", "version": 1, "name": "默认考核方案"},
    "indicators": [
        {"key": "completion", "name": "任务完成率", "value": "0.9000", "numerator": 45, "denominator": 50,
         "weight": "25", "effective_weight": "25.00", "score": "13.89", "no_data": False,
         "record_ids": [3, 1, 2], "counted_ids": [1, 2], "note": ""},
        {"key": "field_accuracy", "name": "数据准确率", "value": "0.9700", "numerator": 194, "denominator": 200,
         "weight": "10", "effective_weight": "10.00", "score": "9.23", "no_data": False,
         "record_ids": [7], "counted_ids": None, "note": ""},
        {"key": "satisfaction", "name": "回访满意率", "value": None, "numerator": 0, "denominator": 0,
         "weight": "15", "effective_weight": "0.00", "score": "0.00", "no_data": True,
         "record_ids": [], "counted_ids": [], "note": "本季度无数据，权重已按比例分摊至其他指标"},
    ],
    "manual_items": [{"points": "-0.50", "reason": "一名社工未持证上岗"}],
    "manual_total": "-0.50",
    "indicator_total": "23.12",
    "raw_total": "22.62",
    "total": "22.62",
    "rating": "不合格",
    "completed_volume": 45,
    "no_data_keys": ["satisfaction"],
}

STORED_EVALUATION = {
    "year": 2025,
    "scheme": {"code": "default", "version": 1, "name": "默认考核方案"},
    "quarters": [{"quarter": "2025Q1", "review_id": 4, "revision": 2, "total": "92.00", "completed_volume": 100,
                  "weight": "0.2500"},
                 {"quarter": "2025Q2", "review_id": 9, "revision": 1, "total": "78.00", "completed_volume": 300,
                  "weight": "0.7500"}],
    "missing_quarters": [{"quarter": "2025Q3", "status": "disputed"}, {"quarter": "2025Q4", "status": None}],
    "volume_weighted": True,
    "mean": "81.50",
    "annual_items": [{"points": "5.00", "reason": "获评市级优秀社会工作服务机构"}],
    "items_total": "5.00",
    "score": "86.50",
    "rating": "良好",
    "payment": {"contract_amount_fen": 123_456_789, "year_amount_fen": 61_728_395, "performance_share": "0.3000",
                "fixed_fen": 43_209_876, "linked_fen": 18_518_519, "payout_rate": "0.90", "payable_fen": 16_666_667,
                "withheld_fen": 1_851_852, "already_paid_fen": 0, "remaining_fen": 16_666_667, "to_recover_fen": 0},
    "revision_reason": None,
}


def test_a_stored_review_reads_as_typed_values_and_writes_back_unchanged():
    figures = ReviewFigures.from_json(STORED_REVIEW)
    assert figures.total == D("22.62") and figures.rating == "不合格" and figures.completed_volume == 45
    assert figures.scheme == SchemeRef("default", 1, "默认考核方案")
    completion = figures.indicator("completion")
    assert completion.value == D("0.9000") and completion.score == D("13.89")
    assert completion.record_ids == (3, 1, 2) and completion.counted_ids == (1, 2)
    assert figures.indicator("field_accuracy").counted_ids is None
    assert figures.indicator("rectification") is None
    assert figures.indicator("satisfaction").value is None and figures.no_data_names == ("回访满意率",)
    assert figures.manual_items == (ItemFigures(D("-0.50"), "一名社工未持证上岗"),)
    assert figures.to_json() == STORED_REVIEW
    assert json.dumps(figures.to_json(), sort_keys=True) == json.dumps(STORED_REVIEW, sort_keys=True)


def test_scored_figures_survive_a_json_round_trip():
    evidence = {"completion": Evidence("completion", 45, 50, (1, 2, 3)),
                "satisfaction": Evidence("satisfaction", 8, 10, (4, 5))}
    result = score_quarter(DEFAULT_SCHEME, evidence, [ManualItem(D("1.5"), "培训台账完整")])
    figures = ReviewFigures.of_score(SchemeRef("default", 1, "默认考核方案"), "2025Q3", result, 45,
                                     {"completion": [1, 2], "satisfaction": (4,)})
    assert figures.total == result.total and figures.manual_total == D("1.50")
    assert figures.indicator("completion").counted_ids == (1, 2)
    assert figures.indicator("timeliness").counted_ids is None and figures.indicator("timeliness").no_data
    stored = json.loads(json.dumps(figures.to_json()))
    assert ReviewFigures.from_json(stored) == figures
    assert isinstance(stored["total"], str) and isinstance(stored["indicators"][0]["score"], str)


def test_an_older_row_without_the_optional_keys_still_reads():
    older = {key: value for key, value in STORED_REVIEW.items()
             if key not in ("manual_items", "manual_total", "indicator_total", "raw_total", "no_data_keys")}
    older["indicators"] = [{k: v for k, v in item.items() if k not in ("counted_ids", "note", "effective_weight")}
                           for item in STORED_REVIEW["indicators"]]
    figures = ReviewFigures.from_json(older)
    assert figures.manual_items == () and figures.manual_total == D("0.00")
    assert figures.raw_total == figures.total == D("22.62") and not figures.clamped
    assert figures.indicator_total == D("22.62")
    assert figures.indicator("completion").counted_ids is None
    assert figures.indicator("completion").effective_weight == D("25")
    assert figures.no_data_keys == ()


def test_keys_a_reader_does_not_know_are_kept():
    # (Keys no version of these classes knows: "estimate" and "preview" are known now, see below.)
    newer = {**STORED_REVIEW, "forecast": {"as_of": "2025-09-15"},
             "indicators": [{**STORED_REVIEW["indicators"][0], "benchmark": "0.9125"}]}
    figures = ReviewFigures.from_json(newer)
    assert figures.extra == {"forecast": {"as_of": "2025-09-15"}}
    assert figures.indicators[0].extra == {"benchmark": "0.9125"}
    assert figures.to_json() == newer


def _weighted_estimate() -> DesignEstimate:
    # 100 records checked 10 (9 passed), 20 flagged checked 10 (5 passed), 5 targeted checked (1 passed).
    return design_estimate([StratumSample.of_verdicts(100, 10, 9), StratumSample.of_verdicts(20, 10, 5),
                            StratumSample.of_verdicts(5, 5, 1, targeted=True)])


def test_an_indicator_carries_its_design_based_estimate_typed():
    stored = _weighted_estimate().as_dict()
    spot = {"key": "spot_check_pass", "name": "抽查合格率", "value": "0.8333", "numerator": 14, "denominator": 20,
            "weight": "25", "effective_weight": "25.00", "score": "13.33", "no_data": False, "record_ids": [5, 6],
            "counted_ids": [5], "note": "", "estimate": stored}
    figures = ReviewFigures.from_json({**STORED_REVIEW, "indicators": [*STORED_REVIEW["indicators"], spot]})
    estimate = figures.indicator("spot_check_pass").estimate
    assert isinstance(estimate, Estimate) and estimate.has_data
    assert estimate.exact == Fraction(5, 6) and estimate.value == D(stored["value"])
    assert estimate.low < D("0.8334") < estimate.high
    assert estimate.sample == Share(14, 20) and estimate.targeted == Share(1, 5)
    assert estimate.unequal and estimate.population == 120 and not estimate.census
    assert figures.estimates == {"spot_check_pass": estimate}
    assert figures.indicator("completion").estimate is None and "estimate" not in figures.to_json()["indicators"][0]
    assert figures.to_json()["indicators"][-1]["estimate"] == stored
    assert json.loads(json.dumps(figures.to_json())) == {**STORED_REVIEW, "indicators": [
        *STORED_REVIEW["indicators"], spot]}


def test_an_estimate_without_data_and_a_census_round_trip():
    empty = design_estimate([StratumSample.of_verdicts(50, 0, 0), StratumSample.of_verdicts(5, 2, 1, targeted=True)])
    typed = Estimate.from_json(empty.as_dict())
    assert typed.exact is None and typed.value is None and not typed.has_data and typed.targeted == Share(1, 2)
    assert typed.to_json() == empty.as_dict()
    census = design_estimate([StratumSample.of_verdicts(4, 4, 3), StratumSample.of_verdicts(6, 6, 6)])
    typed = Estimate.from_json(census.as_dict())
    assert typed.census and typed.effective_size is None and typed.exact == Fraction(9, 10)
    assert typed.to_json() == census.as_dict()
    with pytest.raises(FiguresError, match="exact"):
        Estimate.from_json({**census.as_dict(), "exact": 0.9})


def test_a_running_quarters_preview_is_typed_and_marked():
    result = score_quarter(DEFAULT_SCHEME, {"completion": Evidence("completion", 10, 10, tuple(range(10)))})
    figures = ReviewFigures.of_score(SchemeRef("default", 1, "默认考核方案"), "2025Q3", result, 10, {},
                                     preview=Preview("预览，季度未结束，不可发布", date(2025, 8, 15)))
    stored = figures.to_json()
    assert stored["preview"] == {"label": "预览，季度未结束，不可发布", "due_by": "2025-08-15"}
    again = ReviewFigures.from_json(stored)
    assert again == figures and again.preview.due_by == date(2025, 8, 15)
    assert "preview" not in ReviewFigures.from_json(STORED_REVIEW).to_json()
    with pytest.raises(FiguresError, match="due_by"):
        ReviewFigures.from_json({**stored, "preview": {"label": "预览", "due_by": "15 August"}})


@pytest.mark.parametrize("broken", [
    {k: v for k, v in STORED_REVIEW.items() if k != "total"},
    {**STORED_REVIEW, "total": 22.62},
    {**STORED_REVIEW, "total": "not a number"},
    {**STORED_REVIEW, "indicators": [{**STORED_REVIEW["indicators"][0], "numerator": "45"}]},
    {**STORED_REVIEW, "indicators": [{**STORED_REVIEW["indicators"][0], "record_ids": [1, "2"]}]},
    {**STORED_REVIEW, "indicators": [{**STORED_REVIEW["indicators"][0], "counted_ids": [1, True]}]},
    {},
])
def test_figures_that_are_not_review_figures_are_refused(broken):
    with pytest.raises(FiguresError):
        ReviewFigures.from_json(broken)


def test_an_indicator_knows_the_share_of_its_weight_it_earned():
    figures = ReviewFigures.from_json(STORED_REVIEW)
    assert figures.indicator("completion").earned_share == D("13.89") / D("25.00")
    assert figures.indicator("satisfaction").earned_share is None


def test_a_clamped_total_is_marked():
    figures = ReviewFigures.from_json({**STORED_REVIEW, "raw_total": "-3.00", "total": "0.00"})
    assert figures.clamped


def test_a_stored_evaluation_reads_as_typed_values_and_writes_back_unchanged():
    figures = EvaluationFigures.from_json(STORED_EVALUATION)
    assert figures.score == D("86.50") and figures.year == 2025
    assert [(q.quarter, q.review_id, q.total, q.weight) for q in figures.quarters] == [
        ("2025Q1", 4, D("92.00"), D("0.2500")), ("2025Q2", 9, D("78.00"), D("0.7500"))]
    assert figures.review_ids == (4, 9)
    assert [(m.quarter, m.status) for m in figures.missing_quarters] == [("2025Q3", "disputed"), ("2025Q4", None)]
    assert figures.payment.payable_fen == 16_666_667 and figures.payment.payout_rate == D("0.90")
    assert figures.items() == [ManualItem(D("5.00"), "获评市级优秀社会工作服务机构")]
    assert figures.to_json() == STORED_EVALUATION
    assert EvaluationFigures.from_json(json.loads(json.dumps(figures.to_json()))) == figures


def test_an_indicator_alone_round_trips():
    item = IndicatorFigures.from_json(STORED_REVIEW["indicators"][1])
    assert IndicatorFigures.from_json(item.to_json()) == item


def _totals(**by_quarter):
    return {Quarter.parse(quarter): D(total) for quarter, total in by_quarter.items()}


@pytest.mark.parametrize("totals, quarters", [
    ({}, ()),
    ({"2025Q1": "79.99", "2025Q2": "80.00", "2025Q3": "75"}, ()),
    ({"2025Q1": "79.99", "2025Q2": "79"}, ("2025Q1", "2025Q2")),
    # A quarter without a result breaks the run.
    ({"2025Q1": "70", "2025Q3": "70"}, ()),
    # Across the year end; the latest run is reported.
    ({"2024Q2": "60", "2024Q3": "61", "2024Q4": "90", "2025Q1": "70", "2025Q2": "71", "2025Q3": "72"},
     ("2025Q1", "2025Q2", "2025Q3")),
])
def test_the_standing_warns_after_two_quarters_in_a_row_under_80(totals, quarters):
    found = standing({Quarter.parse(q): D(t) for q, t in totals.items()})
    assert found.below_threshold is bool(quarters)
    assert found.quarters == quarters


def test_the_standing_takes_another_threshold_and_run():
    totals = _totals(**{"2025Q1": "70", "2025Q2": "70"})
    assert not standing(totals, threshold=D(60)).below_threshold
    assert not standing(totals, run=3).below_threshold
    assert standing(totals, run=1).quarters == ("2025Q1", "2025Q2")
    with pytest.raises(ValueError):
        standing(totals, run=0)
