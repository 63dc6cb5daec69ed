"""Annual evaluation and the payment of the performance-linked share, against hand-computed values."""
from decimal import Decimal

import pytest

from oversight.domain.evaluation import (
    DEFAULT_PAYOUT,
    EvaluationError,
    annual_evaluation,
    performance_payment,
)
from oversight.domain.scoring import ManualItem

D = Decimal


# --- annual evaluation -----------------------------------------------------------------------


def test_quarters_are_weighted_by_completed_volume():
    # (92 × 100 + 85 × 300 + 78 × 200 + 88 × 400) / 1000 = (9200 + 25500 + 15600 + 35200) / 1000 = 85.50
    result = annual_evaluation([(D(92), 100), (D(85), 300), (D(78), 200), (D(88), 400)])
    assert result.mean == D("85.50")
    assert result.score == D("85.50")
    assert result.rating == "良好"
    assert result.volume_weighted
    assert result.weights == (D("0.1000"), D("0.3000"), D("0.2000"), D("0.4000"))
    assert result.volumes == (100, 300, 200, 400)


def test_the_mean_is_rounded_once_half_up():
    # (90 × 1 + 80 × 2) / 3 = 83.333… → 83.33; shares 1/3 and 2/3 shown as 0.3333 + 0.6667 = 1
    result = annual_evaluation([(D(90), 1), (D(80), 2)])
    assert result.mean == D("83.33")
    assert result.weights == (D("0.3333"), D("0.6667"))
    # (80.01 + 80.00) / 2 = 80.005 → 80.01
    assert annual_evaluation([(D("80.01"), 5), (D("80.00"), 5)]).mean == D("80.01")


def test_with_no_completed_volume_at_all_the_quarters_count_equally():
    result = annual_evaluation([(D(90), 0), (D(70), 0), (D("80.5"), 0)])
    assert result.mean == D("80.17")  # 240.5 / 3 = 80.1666…
    assert not result.volume_weighted
    assert result.weights == (D("0.3334"), D("0.3333"), D("0.3333"))


def test_a_quarter_without_volume_does_not_count_when_others_have_some():
    assert annual_evaluation([(D(90), 0), (D(70), 10)]).mean == D("70.00")


def test_annual_items_are_added_signed():
    items = (ManualItem(D(3), "获市级表彰"), ManualItem(D("-1.5"), "年度资料归档不全"))
    result = annual_evaluation([(D(92), 100), (D(85), 300), (D(78), 200), (D(88), 400)], items)
    assert result.items_total == D("1.50")
    assert result.score == D("87.00")  # 85.50 + 3 − 1.5
    assert result.items == items


def test_annual_score_is_clamped_to_0_and_100():
    high = annual_evaluation([(D(98), 1)], (ManualItem(D(5), "表彰"),))
    assert (high.raw_score, high.score, high.rating) == (D("103.00"), D("100.00"), "优秀")
    low = annual_evaluation([(D(2), 1)], (ManualItem(D(-5), "事故"),))
    assert (low.raw_score, low.score, low.rating) == (D("-3.00"), D("0.00"), "不合格")


@pytest.mark.parametrize(
    ("total", "rating"),
    [(D("90"), "优秀"), (D("89.99"), "良好"), (D("80"), "良好"), (D("79.99"), "合格"), (D("60"), "合格"),
     (D("59.99"), "不合格")],
)
def test_annual_rating_bands_at_their_boundaries(total, rating):
    assert annual_evaluation([(total, 10), (total, 20)]).rating == rating


@pytest.mark.parametrize(
    "quarters",
    [[], [(D(80), 1)] * 5, [(D(80), -1)], [(D(101), 1)], [(D(-1), 1)]],
)
def test_invalid_quarters_are_refused(quarters):
    with pytest.raises(EvaluationError):
        annual_evaluation(quarters)


def test_float_totals_and_volumes_are_refused():
    with pytest.raises(TypeError):
        annual_evaluation([(80.0, 1)])
    with pytest.raises(TypeError):
        annual_evaluation([(D(80), 1.5)])


# --- payment ---------------------------------------------------------------------------------


def test_payment_of_a_good_rating_to_the_fen():
    # 1,234,567.89 yuan = 123,456,789 fen; × 30 % = 37,037,036.7 → 37,037,037 linked, 86,419,752 fixed
    # 良好 pays 90 %: 37,037,037 × 0.9 = 33,333,333.3 → 33,333,333 payable, 3,703,704 withheld
    payment = performance_payment(123_456_789, D("0.30"), "良好")
    assert payment.linked_fen == 37_037_037
    assert payment.fixed_fen == 86_419_752
    assert payment.payable_fen == 33_333_333
    assert payment.withheld_fen == 3_703_704
    assert payment.fixed_fen + payment.linked_fen == 123_456_789
    assert payment.payable_fen + payment.withheld_fen == payment.linked_fen
    assert payment.payout_rate == D("0.90")
    assert (payment.already_paid_fen, payment.remaining_fen, payment.to_recover_fen) == (0, 33_333_333, 0)


def test_half_a_fen_rounds_up_not_to_even():
    # 25 fen × 10 % = 2.5 fen → 3 (banker's rounding would give 2)
    payment = performance_payment(25, D("0.10"), "优秀")
    assert (payment.linked_fen, payment.fixed_fen, payment.payable_fen) == (3, 22, 3)
    # 50 fen × 10 % = 5; 合格 pays 75 %: 3.75 → 4, withheld 1; 良好 pays 90 %: 4.5 → 5, withheld 0
    assert performance_payment(50, D("0.10"), "合格").payable_fen == 4
    assert performance_payment(50, D("0.10"), "合格").withheld_fen == 1
    assert performance_payment(50, D("0.10"), "良好").payable_fen == 5


@pytest.mark.parametrize(
    ("rating", "payable"),
    [("优秀", 30_000_000), ("良好", 27_000_000), ("合格", 22_500_000), ("不合格", 0)],
)
def test_default_payout_rates(rating, payable):
    # 1,000,000 yuan with 30 % linked: 300,000 yuan = 30,000,000 fen at stake
    payment = performance_payment(100_000_000, D("0.30"), rating)
    assert payment.payable_fen == payable
    assert payment.withheld_fen == 30_000_000 - payable


def test_a_share_from_basis_points_is_exact():
    share = D(3000) / D(10000)
    assert performance_payment(123_456_789, share, "良好").linked_fen == 37_037_037


def test_already_paid_advance_leaves_the_remainder_to_pay():
    payment = performance_payment(123_456_789, D("0.30"), "良好", already_paid_fen=10_000_000)
    assert payment.remaining_fen == 23_333_333
    assert payment.to_recover_fen == 0


def test_an_advance_above_what_is_payable_is_to_be_recovered():
    payment = performance_payment(123_456_789, D("0.30"), "良好", already_paid_fen=35_000_000)
    assert payment.remaining_fen == 0
    assert payment.to_recover_fen == 1_666_667  # 35,000,000 − 33,333,333


def test_an_advance_above_the_linked_share_is_refused():
    with pytest.raises(EvaluationError, match="超过绩效挂钩部分"):
        performance_payment(100, D("0.30"), "优秀", already_paid_fen=31)


def test_payout_rates_can_be_set_per_contract():
    rates = {"优秀": D("1"), "良好": D("0.8"), "合格": D("0.5"), "不合格": D("0")}
    assert performance_payment(100_000, D("0.5"), "良好", rates).payable_fen == 40_000


def test_the_default_payout_table_is_read_only():
    assert dict(DEFAULT_PAYOUT) == {"优秀": D("1.00"), "良好": D("0.90"), "合格": D("0.75"), "不合格": D("0")}
    with pytest.raises(TypeError):
        DEFAULT_PAYOUT["优秀"] = D("0.5")


@pytest.mark.parametrize(
    ("amount", "share", "rating"),
    [(-1, D("0.3"), "优秀"), (100, D("1.01"), "优秀"), (100, D("-0.1"), "优秀"), (100, D("0.3"), "良")],
)
def test_invalid_payment_inputs_are_refused(amount, share, rating):
    with pytest.raises(EvaluationError):
        performance_payment(amount, share, rating)


def test_a_payout_rate_above_one_is_refused():
    with pytest.raises(EvaluationError):
        performance_payment(100, D("0.3"), "优秀", {"优秀": D("1.2")})


def test_floats_are_refused_for_money_and_shares():
    with pytest.raises(TypeError):
        performance_payment(100.0, D("0.3"), "优秀")
    with pytest.raises(TypeError):
        performance_payment(100, 0.3, "优秀")
