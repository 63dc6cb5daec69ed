"""Share and hypergeometric plans, the OC curve and the lot decision."""
import math
from decimal import Decimal
from fractions import Fraction

import pytest

from oversight.domain.sampling.iso2859 import iso2859_plan
from oversight.domain.sampling.plans import (
    acceptance_probability,
    hypergeometric_plan,
    lot_accepted,
    oc_curve,
    percent,
    share_plan,
    share_sample_size,
)


def exact_acceptance(lot_size: int, defectives: int, n: int, ac: int) -> Fraction:
    """P(X ≤ ac) for X hypergeometric, in exact fractions."""
    total = math.comb(lot_size, n)
    return sum((Fraction(math.comb(defectives, x) * math.comb(lot_size - defectives, n - x), total)
                for x in range(ac + 1)), Fraction(0))


def brute_force_plan(lot_size: int, lq: Fraction, risk: Fraction) -> tuple[int, int]:
    """For n = 1, 2, …: the largest Ac with P(accept) ≤ risk; the first n having one wins."""
    defectives = math.ceil(lq * lot_size)
    for n in range(1, lot_size + 1):
        acceptable = [ac for ac in range(n + 1)
                      if exact_acceptance(lot_size, defectives, n, ac) <= risk]
        if acceptable:
            return n, max(acceptable)
    raise AssertionError("no plan")


@pytest.mark.parametrize(("population", "expected"), [
    (0, 0), (1, 1), (4, 4), (5, 5), (7, 5), (100, 5), (101, 6), (120, 6), (1000, 50), (1001, 51),
])
def test_share_sample_size_is_five_percent_rounded_up_with_a_floor_of_five(population, expected):
    assert share_sample_size(population) == expected


@pytest.mark.parametrize(("population", "share", "floor", "expected"), [
    (120, "0.1", 5, 12), (120, Decimal("0.1"), 20, 20), (30, "0.5", 0, 15), (31, "0.5", 0, 16),
    (10, "1", 5, 10), (3, "0.05", 10, 3), (1000, 0.03, 5, 30),
])
def test_share_and_floor_are_parameters(population, share, floor, expected):
    assert share_sample_size(population, share, floor) == expected


@pytest.mark.parametrize(("population", "share", "floor"), [
    (-1, "0.05", 5), (10, "0", 5), (10, "1.5", 5), (10, "abc", 5), (10, "NaN", 5),
    (10, "0.05", -1), (2.5, "0.05", 5),
])
def test_share_sample_size_refuses_nonsense(population, share, floor):
    with pytest.raises(ValueError):
        share_sample_size(population, share, floor)


def test_share_plan_has_no_acceptance_number_and_cannot_decide_a_lot():
    plan = share_plan(400)
    assert (plan.kind, plan.lot_size, plan.n, plan.ac, plan.re) == ("share", 400, 20, None, None)
    assert not plan.decides_lot and not plan.inspect_all
    assert plan.summary() == "按比例抽样：5%，至少 5 条；批量 400，抽查 20 条"
    with pytest.raises(ValueError):
        lot_accepted(0, plan)
    with pytest.raises(ValueError):
        oc_curve(plan)


def test_share_plan_of_a_small_population_checks_everything_and_says_so():
    plan = share_plan(3)
    assert plan.n == 3 and plan.inspect_all
    assert plan.notes == ("总体仅 3 条，全部抽查",)


@pytest.mark.parametrize("lot_size", [1, 2, 5, 9, 10, 11, 37, 100, 250, 1000])
@pytest.mark.parametrize(("lq", "risk"), [("0.10", "0.10"), ("0.05", "0.10"), ("0.20", "0.05"),
                                          ("0.10", "0.05")])
def test_hypergeometric_plan_matches_an_exact_brute_force_search(lot_size, lq, risk):
    plan = hypergeometric_plan(lot_size, Decimal(lq), Decimal(risk))
    expected = brute_force_plan(lot_size, Fraction(lq), Fraction(risk))
    assert (plan.n, plan.ac) == expected
    assert plan.re == plan.ac + 1
    assert plan.inspect_all == (plan.n == lot_size)


def test_hypergeometric_plan_defaults_to_lq_ten_percent_and_risk_ten_percent():
    plan = hypergeometric_plan(1000)
    assert (plan.kind, plan.n, plan.ac, plan.re) == ("hypergeometric", 22, 0, 1)
    assert (plan.limiting_quality, plan.consumer_risk) == (Decimal("0.10"), Decimal("0.10"))
    assert plan.summary() == "孤立批超几何抽样：极限质量 10%，使用方风险 10%；批量 1000，样本量 22，Ac 0，Re 1"


def test_hypergeometric_plan_is_the_smallest_sample_meeting_the_consumer_risk():
    plan = hypergeometric_plan(3000, "0.05", "0.10")
    defectives = 150
    assert acceptance_probability(3000, defectives, plan.n, plan.ac) <= 0.10
    assert acceptance_probability(3000, defectives, plan.n - 1, plan.ac) > 0.10


@pytest.mark.parametrize(("lq", "risk"), [("0", "0.1"), ("1.1", "0.1"), ("0.1", "0"), ("0.1", "1"),
                                          ("x", "0.1")])
def test_hypergeometric_plan_refuses_rates_outside_their_range(lq, risk):
    with pytest.raises(ValueError):
        hypergeometric_plan(100, lq, risk)


def test_oc_curve_starts_at_certain_acceptance_and_falls_to_negligible():
    plan = iso2859_plan(2400, "2.5")
    curve = oc_curve(plan)
    assert curve[0] == (0.0, 1.0)
    assert all(p1 >= p2 for (_, p1), (_, p2) in zip(curve, curve[1:]))
    assert curve[-1][1] < 0.005 <= curve[-2][1]
    assert len(curve) == 41
    assert all(abs(share * 2400 - round(share * 2400)) < 1e-9 for share, _ in curve)


def test_oc_curve_points_are_exact_hypergeometric_probabilities():
    plan = iso2859_plan(60, "2.5")
    for share, probability in oc_curve(plan, points=11, max_share="0.5"):
        defectives = round(share * 60)
        assert probability == pytest.approx(float(exact_acceptance(60, defectives, 20, 1)),
                                            abs=1e-12)


def test_oc_curve_respects_max_share_and_lot_size_override():
    plan = hypergeometric_plan(500)
    curve = oc_curve(plan, lot_size=800, points=5, max_share="0.2")
    assert [share for share, _ in curve] == [0.0, 0.05, 0.1, 0.15, 0.2]


def test_oc_curve_of_a_full_inspection_is_a_step_at_the_acceptance_number():
    plan = iso2859_plan(10, "0.65")
    assert plan.inspect_all
    curve = oc_curve(plan, points=11, max_share="1")
    assert curve[:3] == [(0.0, 1.0), (0.1, 0.0), (0.2, 0.0)]


def test_oc_curve_refuses_a_lot_smaller_than_the_sample():
    with pytest.raises(ValueError):
        oc_curve(iso2859_plan(2400, "2.5"), lot_size=100)


@pytest.mark.parametrize(("failures", "accepted"), [(0, True), (7, True), (8, False), (30, False)])
def test_lot_is_accepted_when_failures_do_not_exceed_ac(failures, accepted):
    assert lot_accepted(failures, iso2859_plan(2400, "2.5")) is accepted


def test_lot_decision_refuses_a_negative_failure_count():
    with pytest.raises(ValueError):
        lot_accepted(-1, iso2859_plan(2400, "2.5"))


@pytest.mark.parametrize(("value", "text"), [(Decimal("0.05"), "5%"), (Decimal("0.125"), "12.5%"),
                                             (Decimal("1"), "100%"), (None, "")])
def test_percent_writes_shares_without_trailing_zeros(value, text):
    assert percent(value) == text
