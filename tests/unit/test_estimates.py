"""Design-based (stratum-weighted) estimates, worked by hand."""
import math
import random
from fractions import Fraction

import pytest

from oversight.domain.estimates import (
    StratumSample,
    cell_strata,
    design_estimate,
    pass_rate_estimate,
    wilson_bounds,
)
from oversight.domain.sampling import (
    DrawParams,
    PopulationItem,
    draw_sample,
    draw_strata,
    population_cells,
)
from oversight.domain.statistics import wilson_interval

Z = 1.959963984540054  # the two-sided 95 % normal quantile


def wilson_by_hand(p, n):
    """Wilson's interval written out: (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def test_two_strata_sampled_at_different_rates_are_weighted_by_their_size():
    # Stratum A: 100 records, 10 checked (10 %), 9 passed; stratum B: 20 records, 10 checked (50 %), 5 passed.
    estimate = pass_rate_estimate([(100, 10, 9, False), (20, 10, 5, False)])
    # (100 × 0.9 + 20 × 0.5) / 120 = (90 + 10) / 120 = 100/120 = 5/6 = 0.8333…
    assert estimate.exact == Fraction(5, 6)
    assert estimate.value == pytest.approx(0.833333, abs=1e-6)
    # The raw share stays beside it: 14 of the 20 checks passed, 0.70 — B's 50 % fills half the sample.
    assert (estimate.sample.numerator, estimate.sample.denominator) == (14, 20)
    assert estimate.unequal and estimate.population == 120
    # Variance Σ W² (1 − n/N) s²/n, s² = n/(n−1) p(1−p):
    #   A: (100/120)² × (1 − 0.1) × (10/9 × 0.9 × 0.1) / 10 = 0.694444 × 0.9 × 0.1 / 10 = 0.00625
    #   B: (20/120)² × (1 − 0.5) × (10/9 × 0.5 × 0.5) / 10 = 0.027778 × 0.5 × 0.277778 / 10 = 0.000385802
    #   V = 0.006635802, SE = √V = 0.081460
    assert estimate.standard_error == pytest.approx(math.sqrt(0.00625 + 0.000385802), abs=1e-6)
    assert estimate.standard_error == pytest.approx(0.081460, abs=1e-5)
    # Common-rate factor c = Σ W² (1 − f) / n = 0.694444 × 0.9 / 10 + 0.027778 × 0.5 / 10 = 0.0625 + 0.00138889
    #   = 0.06388889; V / (R(1 − R)) = 0.006635802 / (5/6 × 1/6) = 0.0477778 is smaller, so n* = 1/c = 15.6522.
    assert estimate.effective_size == pytest.approx(1 / 0.06388889, rel=1e-6)
    # Wilson at 0.8333 with n* 15.6522: z²/n* = 0.245429; centre (0.833333 + 0.122715) / 1.245429 = 0.767641;
    # half 1.959964 × √(0.138889/15.6522 + 3.841459/(4 × 244.99)) / 1.245429 = 0.178003 → 0.5896 – 0.9456.
    low, high = wilson_by_hand(5 / 6, 1 / 0.06388889)
    assert (estimate.low, estimate.high) == (pytest.approx(low, abs=1e-6), pytest.approx(high, abs=1e-6))
    assert (estimate.low, estimate.high) == (pytest.approx(0.5896, abs=1e-4), pytest.approx(0.9456, abs=1e-4))


def test_a_targeted_stratum_is_reported_apart_and_stays_out_of_the_estimate():
    # The same two strata plus 5 complaint-targeted records, all checked, 1 passed.
    estimate = pass_rate_estimate([(100, 10, 9, False), (20, 10, 5, False), (5, 5, 1, True)])
    # Still (90 + 10) / 120: the 5 targeted records are neither in N nor in the sample.
    assert estimate.exact == Fraction(5, 6) and estimate.population == 120
    assert (estimate.sample.numerator, estimate.sample.denominator) == (14, 20)
    # Their own figure: 1/5.
    assert (estimate.targeted.numerator, estimate.targeted.denominator) == (1, 5)
    assert estimate.targeted.value == 0.2
    assert (estimate.low, estimate.high) == pytest.approx(
        (pass_rate_estimate([(100, 10, 9, False), (20, 10, 5, False)]).low,
         pass_rate_estimate([(100, 10, 9, False), (20, 10, 5, False)]).high))


def test_a_stratum_inspected_in_full_adds_no_variance():
    # A small lot of 4 records all checked (3 passed) beside 100 records of which 10 were checked (9 passed).
    estimate = pass_rate_estimate([(4, 4, 3, False), (100, 10, 9, False)])
    # (4 × 3/4 + 100 × 9/10) / 104 = (3 + 90) / 104 = 93/104 = 0.894231
    assert estimate.exact == Fraction(93, 104)
    # Only the sampled stratum varies: (100/104)² × (1 − 10/100) × (10/9 × 0.09) / 10
    #   = 0.924556 × 0.9 × 0.1 / 10 = 0.00832101 (the census stratum's (1 − 4/4) = 0 removes its term)
    assert estimate.standard_error == pytest.approx(math.sqrt((100 / 104) ** 2 * 0.9 * 0.1 / 10), abs=1e-9)


def test_when_every_stratum_is_inspected_in_full_there_is_no_uncertainty():
    # 4 of 4 (3 passed) and 6 of 6 (6 passed): the estimate is what happened, (3 + 6)/10.
    estimate = pass_rate_estimate([(4, 4, 3, False), (6, 6, 6, False)])
    assert estimate.exact == Fraction(9, 10)
    assert estimate.standard_error == 0.0
    assert (estimate.low, estimate.high) == (0.9, 0.9)
    assert math.isinf(estimate.effective_size) and estimate.as_dict()["census"]
    # Both strata sampled at the same rate (100 %): equal inclusion probabilities.
    assert not estimate.unequal


def test_equal_inclusion_probabilities_give_exactly_k_over_n():
    # 200 records with 10 checked (5 %) and 100 with 5 checked (5 %): 9 + 4 passed of 15.
    estimate = pass_rate_estimate([(200, 10, 9, False), (100, 5, 4, False)])
    # (200 × 9/10 + 100 × 4/5) / 300 = (180 + 80) / 300 = 260/300 = 13/15 = k/n
    assert estimate.exact == Fraction(13, 15) == Fraction(estimate.sample.numerator, estimate.sample.denominator)
    assert not estimate.unequal


def test_one_stratum_from_a_large_population_gives_the_plain_wilson_interval():
    # 8 of 10 from a million records: f ≈ 0, c = 1/10 × (1 − 10⁻⁵); V/(p(1−p)) = 1/9 × (1 − 10⁻⁵) is larger,
    # so n* = 9/(1 − 10⁻⁵) — Wilson with n − 1 for the unbiased variance.
    estimate = pass_rate_estimate([(1_000_000, 10, 8, False)])
    low, high = wilson_by_hand(0.8, 9 / (1 - 1e-5))
    assert (estimate.low, estimate.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    # All 10 passing: no spread in the checks, so the common-rate size n* = 10/(1 − 10⁻⁵) sets the interval,
    # the same as Wilson's 10 of 10 — not the single point 100 % a normal interval would give.
    perfect = pass_rate_estimate([(1_000_000, 10, 10, False)])
    assert perfect.high == 1.0 and perfect.standard_error == 0.0
    assert perfect.low == pytest.approx(wilson_interval(10, 10)[0], abs=1e-5)
    assert perfect.low == pytest.approx(0.7225, abs=1e-4)


def test_a_stratum_without_any_check_is_left_out_and_its_size_reported():
    # 50 records in a cell whose drawn record has not been checked yet.
    estimate = pass_rate_estimate([(100, 10, 9, False), (50, 0, 0, False)])
    assert estimate.exact == Fraction(9, 10) and estimate.population == 100
    assert estimate.unchecked_population == 50


def test_nothing_checked_estimates_nothing():
    estimate = pass_rate_estimate([(30, 0, 0, False), (5, 5, 2, True)])
    assert estimate.exact is None and estimate.value is None and not estimate.has_data
    assert (estimate.low, estimate.high, estimate.standard_error) == (None, None, None)
    assert (estimate.targeted.numerator, estimate.targeted.denominator) == (2, 5)
    assert estimate.as_dict()["exact"] is None


def test_field_accuracy_is_the_ratio_of_weighted_fields():
    # A: 50 records, 2 checked with (matched, compared) fields (8, 10) and (10, 10) → ȳ 9, x̄ 10;
    # B: 10 records, 2 checked with (3, 4) and (4, 4) → ȳ 3.5, x̄ 4.
    strata = [StratumSample.of_units(50, [(8, 10), (10, 10)]), StratumSample.of_units(10, [(3, 4), (4, 4)])]
    estimate = design_estimate(strata)
    # R = (50 × 9 + 10 × 3.5) / (50 × 10 + 10 × 4) = 485 / 540 = 97/108 = 0.898148
    assert estimate.exact == Fraction(97, 108)
    # Raw: (18 + 7) / (20 + 8) = 25/28 = 0.892857
    assert (estimate.sample.numerator, estimate.sample.denominator) == (25, 28)
    # Linearised variance from the residuals e = y − R x, R = 0.898148:
    #   A: e = 8 − 8.98148 = −0.98148 and 10 − 8.98148 = 1.01852, two values 2 apart: s² = 2² / 2 = 2
    #   B: e = 3 − 3.59259 = −0.59259 and 4 − 3.59259 = 0.40741, 1 apart: s² = 1² / 2 = 0.5
    r = 97 / 108
    e_a = [8 - r * 10, 10 - r * 10]
    e_b = [3 - r * 4, 4 - r * 4]

    def s2(values):
        mean = sum(values) / len(values)
        return sum((v - mean) ** 2 for v in values) / (len(values) - 1)

    # V = [50² × (1 − 2/50) × s²_A / 2 + 10² × (1 − 2/10) × s²_B / 2] / 540²
    variance = (50 ** 2 * (1 - 2 / 50) * s2(e_a) / 2 + 10 ** 2 * (1 - 2 / 10) * s2(e_b) / 2) / 540 ** 2
    assert s2(e_a) == pytest.approx(2.0) and s2(e_b) == pytest.approx(0.5)
    assert estimate.standard_error == pytest.approx(math.sqrt(variance), abs=1e-12)


def test_the_variance_is_exactly_that_of_the_residuals_of_every_checked_record():
    """The estimator sums its strata in integers: it must give exactly (not about) the variance
    written out record by record in fractions, and so the same float every time."""
    rng = random.Random(11)
    for _ in range(200):
        strata, units_of = [], []
        for _ in range(rng.randint(1, 6)):
            units = [(y, x) for x in (rng.randint(0, 5) for _ in range(rng.randint(0, 8))) for y in (rng.randint(0, x),)]
            strata.append(StratumSample.of_units(len(units) + rng.choice((0, 0, 1, 30)), units))
            units_of.append(units)
        estimate = design_estimate(strata)
        checked = [(s, u) for s, u in zip(strata, units_of) if u]
        total = sum(Fraction(s.population * sum(x for _, x in u), len(u)) for s, u in checked)
        if total == 0:
            assert estimate.exact is None
            continue
        r = sum(Fraction(s.population * sum(y for y, _ in u), len(u)) for s, u in checked) / total
        variance = Fraction(0)
        for s, u in checked:
            residuals = [y - r * x for y, x in u]
            mean = sum(residuals) / len(u)
            s2 = sum((e - mean) ** 2 for e in residuals) / (len(u) - 1) if len(u) > 1 else 0
            variance += s.population ** 2 * (1 - Fraction(len(u), s.population)) * s2 / len(u)
        assert estimate.exact == r
        assert estimate.standard_error == math.sqrt(float(variance / total ** 2))


def test_field_accuracy_at_equal_rates_is_matched_over_compared():
    # Both strata at 10 %: 20 records with checks (9, 10) and (10, 10), 10 records with one check (4, 5).
    strata = [StratumSample.of_units(20, [(9, 10), (10, 10)]), StratumSample.of_units(10, [(4, 5)])]
    # (20 × 9.5 + 10 × 4) / (20 × 10 + 10 × 5) = 230 / 250 = 23/25 = (9 + 10 + 4) / (10 + 10 + 5)
    assert design_estimate(strata).exact == Fraction(23, 25)


def test_a_pass_rate_stratum_is_a_field_stratum_of_one_trial_per_record():
    as_verdicts = StratumSample.of_verdicts(40, 5, 4)
    as_units = StratumSample.of_units(40, [(1, 1)] * 4 + [(0, 1)])
    assert as_verdicts == as_units


@pytest.mark.parametrize(("population", "checked", "passed"), [(5, 6, 1), (10, 5, 6), (10, 5, -1), (-1, 0, 0)])
def test_impossible_strata_are_refused(population, checked, passed):
    with pytest.raises(ValueError):
        StratumSample.of_verdicts(population, checked, passed)


def test_wilson_bounds_with_a_whole_sample_size_are_wilsons():
    assert wilson_bounds(0.8, 10) == pytest.approx(wilson_interval(8, 10))
    assert wilson_bounds(0.0, 7)[0] == 0.0 and wilson_bounds(1.0, 7)[1] == 1.0


def test_cells_of_a_frozen_population_follow_the_draw():
    population = ([PopulationItem(i, "W01") for i in range(1, 41)]
                  + [PopulationItem(i, "W02") for i in range(41, 44)]
                  + [PopulationItem(44, "W02", flagged=True), PopulationItem(45, "W01", targeted=True)])
    assert population_cells(population, risk_weighted=True) == {
        "random:W01": 40, "random:W02": 3, "flagged": 1, "targeted": 1}
    # Without risk weighting the flagged record is one of W02's.
    assert population_cells(population, risk_weighted=False) == {"random:W01": 40, "random:W02": 4, "targeted": 1}
    draw = draw_sample(population, DrawParams(risk_weighted=True), "seed")
    # Every drawn record passes except those of W02's small cell, which the 1-per-worker minimum over-samples.
    checks = [(item.record_id, item.stratum, int(item.worker != "W02" or item.stratum != "random"), 1)
              for item in draw.items]
    estimate = design_estimate(draw_strata(population, True, checks))
    drawn = {item.stratum: sum(1 for i in draw.items if i.stratum == item.stratum) for item in draw.items}
    w02 = sum(1 for i in draw.items if i.stratum == "random" and i.worker == "W02")
    # (40 × 1 + 3 × 0 + 1 × 1) / 44: W02's 3 records fail, the 40 of W01 and the flagged one pass.
    assert estimate.exact == Fraction(41, 44)
    assert estimate.sample.denominator == drawn["random"] + drawn["flagged"]
    assert estimate.sample.numerator == estimate.sample.denominator - w02
    assert (estimate.targeted.numerator, estimate.targeted.denominator) == (1, 1)


def test_a_check_outside_the_frozen_population_is_refused():
    with pytest.raises(ValueError):
        cell_strata({"random:W01": 10}, [("random:W09", 1, 1)])
    with pytest.raises(ValueError):
        draw_strata([PopulationItem(1, "W01")], False, [(2, "random", 1, 1)])


def test_the_interval_covers_the_true_rate_about_95_percent_of_the_time():
    """Two strata, 300 records at a 92 % pass rate drawn at 5 % and 40 flagged records at 60 % drawn at
    50 %: over 1,000 seeded draws the interval holds the population's rate at least 93 % of the time."""
    rng = random.Random(10)
    strata = {"random": [rng.random() < 0.92 for _ in range(300)], "flagged": [rng.random() < 0.6 for _ in range(40)]}
    sizes = {"random": 15, "flagged": 20}
    truth = sum(sum(values) for values in strata.values()) / 340
    covered = 0
    for _ in range(1000):
        samples = [StratumSample.of_verdicts(len(values), sizes[name], sum(rng.sample(values, sizes[name])))
                   for name, values in strata.items()]
        estimate = design_estimate(samples)
        covered += estimate.low <= truth <= estimate.high
    assert covered >= 930
