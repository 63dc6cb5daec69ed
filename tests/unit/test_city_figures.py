"""The city dashboard's pure aggregation: the city's row is the sum of its counties'."""
import pytest

from oversight.domain.city_figures import COUNTED, CountyCounts, city_figures
from oversight.domain.statistics import Rate

COUNTIES = [(3, "360703", "南康区"), (1, "360704", "赣县区"), (2, "360702", "章贡区")]


def _counts(**values) -> CountyCounts:
    return CountyCounts(**values)


def test_the_citys_figures_are_the_sums_of_its_counties():
    counts = {
        1: _counts(contracts=3, reviewed_contracts=3, below_80=1, checks=120, checks_passed=110, overdue_notices=2,
                   open_complaints=1, complaints_in_quarter=2),
        2: _counts(contracts=2, reviewed_contracts=2, below_80=0, checks=40, checks_passed=39, overdue_notices=0,
                   open_complaints=0, complaints_in_quarter=1),
        3: _counts(contracts=4, reviewed_contracts=3, below_80=2, checks=9, checks_passed=5, overdue_notices=3,
                   open_complaints=4, complaints_in_quarter=0),
    }
    figures = city_figures(COUNTIES, counts)
    for name in COUNTED:
        assert getattr(figures.total, name) == sum(getattr(found, name) for found in counts.values())
    assert figures.total == _counts(contracts=9, reviewed_contracts=8, below_80=3, checks=169, checks_passed=154,
                                    overdue_notices=5, open_complaints=5, complaints_in_quarter=3)


def test_rows_come_in_code_order_and_a_county_without_counts_shows_zeros():
    figures = city_figures(COUNTIES, {3: _counts(contracts=1)})
    assert [row.code for row in figures.rows] == ["360702", "360703", "360704"]
    assert [row.name for row in figures.rows] == ["章贡区", "南康区", "赣县区"]
    assert figures.rows[0].counts == CountyCounts()
    assert figures.total.contracts == 1


def test_the_pooled_pass_rate_comes_from_the_summed_counts_not_the_mean_of_the_rates():
    counts = {1: _counts(checks=100, checks_passed=90), 2: _counts(checks=10, checks_passed=5)}
    figures = city_figures(COUNTIES, counts)
    pooled = figures.pooled_pass_rate
    assert (pooled.numerator, pooled.denominator) == (95, 110)
    assert pooled.value == pytest.approx(95 / 110)
    mean_of_rates = (0.9 + 0.5) / 2
    assert pooled.value != pytest.approx(mean_of_rates)
    assert (pooled.low, pooled.high) == (Rate.of(95, 110).low, Rate.of(95, 110).high)
    by_code = {row.code: row for row in figures.rows}
    assert by_code["360704"].pass_rate.value == pytest.approx(0.9)
    assert by_code["360702"].pass_rate.value == pytest.approx(0.5)
    # Each county's interval is its own Wilson interval; the county without checks has no rate.
    assert by_code["360702"].pass_rate.low == Rate.of(5, 10).low
    assert by_code["360703"].pass_rate.value is None
    assert not by_code["360703"].pass_rate.has_data


def test_a_city_without_any_checks_has_no_pooled_rate():
    assert city_figures(COUNTIES, {}).pooled_pass_rate.value is None


@pytest.mark.parametrize("values", [
    {"contracts": -1}, {"checks": 2, "checks_passed": 3}, {"reviewed_contracts": 1, "below_80": 2},
    {"open_complaints": 1.0}, {"contracts": True},
])
def test_impossible_counts_are_refused(values):
    with pytest.raises(ValueError):
        CountyCounts(**values)


def test_counts_of_an_area_outside_the_city_are_refused():
    with pytest.raises(ValueError, match="不属于本市"):
        city_figures(COUNTIES, {9: _counts(contracts=1)})
    with pytest.raises(ValueError, match="重复"):
        city_figures(COUNTIES + [(1, "360704", "赣县区")], {})
