"""Wilson intervals, rates and stratified pass-rate estimates."""
import math

import pytest

from oversight.domain.statistics import (
    PassRateEstimate,
    Rate,
    stratified_pass_rate,
    wilson_interval,
    z_value,
)


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (8, 10, 0.4902, 0.9433),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),
    (1, 1, 0.2065, 1.0),
])
def test_wilson_interval_matches_reference_values_at_95_percent(successes, n, low, high):
    interval = wilson_interval(successes, n)
    assert interval == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_is_exactly_zero_or_one_at_the_extremes():
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0


def test_wilson_interval_of_nothing_is_none():
    assert wilson_interval(0, 0) is None


def test_a_lower_confidence_gives_a_narrower_interval():
    low90, high90 = wilson_interval(81, 263, confidence=0.90)
    low95, high95 = wilson_interval(81, 263)
    assert low95 < low90 < high90 < high95


@pytest.mark.parametrize(("successes", "n", "confidence"), [
    (-1, 10, 0.95), (11, 10, 0.95), (1, -1, 0.95), (1.5, 10, 0.95), (1, 10, 0), (1, 10, 1),
])
def test_wilson_interval_refuses_nonsense(successes, n, confidence):
    with pytest.raises(ValueError):
        wilson_interval(successes, n, confidence)


def test_z_value_at_95_percent_is_1_96():
    assert z_value() == pytest.approx(1.959964, abs=1e-6)


def test_rate_carries_counts_value_and_interval():
    rate = Rate.of(8, 10)
    assert (rate.numerator, rate.denominator, rate.value) == (8, 10, 0.8)
    assert (rate.low, rate.high) == wilson_interval(8, 10)
    assert rate.has_data and rate.confidence == 0.95


def test_rate_without_a_denominator_has_no_value():
    rate = Rate.of(0, 0)
    assert (rate.value, rate.low, rate.high, rate.has_data) == (None, None, None, False)


def test_rate_is_frozen():
    with pytest.raises(AttributeError):
        Rate.of(1, 2).value = 0.9


def test_stratified_estimate_weights_each_stratum_by_its_size():
    estimate = stratified_pass_rate([(100, 10, 9), (50, 10, 5)])
    assert estimate.value == pytest.approx(2 / 3 * 0.9 + 1 / 3 * 0.5)
    # Σ W² (1 − n/N) s²/n with s² = n/(n−1) p(1−p)
    variance = (2 / 3) ** 2 * 0.9 * (10 / 9 * 0.09) / 10 + (1 / 3) ** 2 * 0.8 * (10 / 9 * 0.25) / 10
    assert estimate.standard_error == pytest.approx(math.sqrt(variance))
    assert (estimate.population, estimate.checked, estimate.passed) == (150, 20, 14)


def test_a_fully_checked_stratum_adds_no_sampling_error():
    estimate = stratified_pass_rate([(10, 10, 7)])
    assert estimate.value == pytest.approx(0.7)
    assert estimate.standard_error == 0.0


def test_a_stratum_with_one_check_adds_no_variance():
    assert stratified_pass_rate([(40, 1, 1)]).standard_error == 0.0


def test_empty_strata_are_skipped():
    assert stratified_pass_rate([(0, 0, 0), (20, 5, 4)]).value == pytest.approx(0.8)


@pytest.mark.parametrize("strata", [
    [(20, 0, 0)], [(0, 0, 0)], [], [(10, 5, 6)], [(10, 11, 5)], [(10, 5, -1)],
])
def test_stratified_estimate_refuses_what_it_cannot_estimate(strata):
    with pytest.raises(ValueError):
        stratified_pass_rate(strata)


def test_estimate_interval_is_clipped_to_zero_and_one():
    estimate = PassRateEstimate(value=0.98, standard_error=0.05, population=100, checked=10,
                                passed=10)
    low, high = estimate.interval()
    assert high == 1.0
    assert low == pytest.approx(0.98 - 1.959964 * 0.05, abs=1e-6)
