"""The past-performance score a tender's scoring item may use (domain.past_performance)."""
from decimal import Decimal

import pytest

from oversight.domain.past_performance import YearResult, past_performance_score


def test_an_approved_annual_score_counts_else_the_mean_of_approved_quarters():
    years = [
        YearResult("A-1", 2024, Decimal("92.40"), (Decimal("80"), Decimal("99"))),  # the annual score: 92.40
        YearResult("A-1", 2025, None, (Decimal("88.56"), Decimal("88.03"))),  # mean of the quarters: 88.295
        YearResult("B-1", 2025, None, ()),  # nothing approved: not counted
    ]
    result = past_performance_score(years, max_points=10)
    # (92.40 + 88.295) / 2 = 90.3475 → × 10 / 100 = 9.03475 → 9.03
    assert result.history_score == Decimal("90.3475")
    assert result.points == Decimal("9.03")
    assert [year.year for year in result.counted] == [2024, 2025]
    assert result.years[2].basis == "无已审定结果，不计"


def test_points_round_half_up_to_the_cent():
    result = past_performance_score([YearResult("A", 2025, Decimal("90.25"))], max_points=15)
    assert result.points == Decimal("13.54")  # 13.5375 → 13.54


def test_no_approved_result_gives_no_score_for_the_tender_rules_to_decide():
    result = past_performance_score([YearResult("A", 2025, None, ())], max_points=10)
    assert result.points is None and result.history_score is None


def test_the_maximum_must_be_positive():
    with pytest.raises(ValueError, match="分值上限"):
        past_performance_score([], max_points=0)
