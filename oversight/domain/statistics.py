"""Rates with Wilson intervals and stratified pass-rate estimates (SPEC section 5)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from scipy.stats import norm

DEFAULT_CONFIDENCE = 0.95


@lru_cache(maxsize=16)  # scipy's ppf costs ~80 µs; a results page asks for thousands of intervals
def z_value(confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The two-sided standard normal quantile for a confidence level."""
    if not 0 < confidence < 1:
        raise ValueError(f"置信水平必须在 0 与 1 之间，收到 {confidence}")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def wilson_interval(successes: int, n: int,
                    confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval for successes out of n; None when n is 0."""
    for value, label in ((successes, "成功数"), (n, "总数")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{label}必须是非负整数，收到 {value!r}")
    if successes > n:
        raise ValueError(f"成功数 {successes} 大于总数 {n}")
    z = z_value(confidence)
    if n == 0:
        return None
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # The bounds are exactly 0 and 1 at the extremes; rounding must not push them past.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """A count-based rate with its Wilson interval; value and bounds are None without data."""

    numerator: int
    denominator: int
    value: float | None
    low: float | None
    high: float | None
    confidence: float = DEFAULT_CONFIDENCE

    @classmethod
    def of(cls, numerator: int, denominator: int, confidence: float = DEFAULT_CONFIDENCE) -> Rate:
        """numerator / denominator with its Wilson interval."""
        interval = wilson_interval(numerator, denominator, confidence)
        if interval is None:
            return cls(numerator, denominator, None, None, None, confidence)
        return cls(numerator, denominator, numerator / denominator, *interval, confidence)

    @property
    def has_data(self) -> bool:
        """False when there is nothing to divide by."""
        return self.denominator > 0


@dataclass(frozen=True)
class PassRateEstimate:
    """A size-weighted pass-rate estimate with its standard error."""

    value: float
    standard_error: float
    population: int
    checked: int
    passed: int

    def interval(self, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
        """Normal-approximation interval, clipped to [0, 1]."""
        margin = z_value(confidence) * self.standard_error
        return max(0.0, self.value - margin), min(1.0, self.value + margin)


def stratified_pass_rate(strata: Sequence[tuple[int, int, int]]) -> PassRateEstimate:
    """Estimate from (stratum population size, checked, passed) per stratum, weighted by size.

    Unbiased under simple random sampling within each stratum, whatever the allocation (e.g.
    anomaly-flagged records drawn at a higher rate). Pass only random strata: the caller leaves
    out targeted (complaint) records, which were not drawn at random. The standard error uses
    the finite population correction; a stratum with one check contributes no variance.
    Empty strata are skipped; a non-empty stratum with no checks cannot be estimated.
    The arithmetic is `oversight.domain.estimates.design_estimate`'s, which also gives the
    interval the pages show.
    """
    from .estimates import StratumSample, design_estimate

    samples = [StratumSample.of_verdicts(size, checked, passed) for size, checked, passed in strata]
    for sample in samples:
        if sample.population and not sample.checked:
            raise ValueError(f"有一层总体 {sample.population} 条但尚无抽查结果，无法估计合格率")
    estimate = design_estimate(samples)
    if estimate.exact is None:
        raise ValueError("没有可以估计合格率的分层")
    return PassRateEstimate(value=estimate.value, standard_error=estimate.standard_error,
                            population=estimate.population, checked=sum(s.checked for s in samples),
                            passed=sum(s.successes for s in samples))
