"""Design-based estimates of a pass rate or a field-accuracy rate from stratified spot checks
(SPEC sections 5 and 10).

A draw samples each stratum (a field worker's cell of the random stratum, the anomaly-flagged
stratum, a small lot inspected in full) at its own rate, so the plain share of passes among the
checks, k/n, over-represents the strata drawn at the higher rates. The estimate weights every
stratum by its population instead (the stratified, or Horvitz–Thompson, estimator):

    R̂ = Σ_h N_h ȳ_h / Σ_h N_h x̄_h

where, for the checked records of stratum h, y is what succeeded and x what was tried: for a
pass rate each record is one trial (x = 1) and y = 1 when it passed, so R̂ = Σ_h (N_h / N) k_h / n_h;
for field accuracy x is the fields compared and y the fields that matched, so R̂ is the
(combined) ratio estimate of matching fields over compared fields. When every stratum is sampled
at the same rate n_h / N_h the estimate is exactly k/n (Σ y / Σ x). It is kept as an exact
fraction, so that scores computed from it can be recomputed to the cent.

Targeted strata (complaints, external-data contradictions) were not drawn at random: they are
reported apart (their own k/n) and never enter the estimate. A stratum with records but no check
recorded yet cannot be estimated; it is left out and its size reported (`unchecked_population`).

Standard error: the linearised variance of the ratio with the finite-population correction,
    V̂ = Σ_h N_h² (1 − n_h/N_h) s²_e,h / n_h / X̂²,   e_i = y_i − R̂ x_i,   X̂ = Σ_h N_h x̄_h,
which for a pass rate is the textbook Σ_h W_h² (1 − f_h) s²_h / n_h with s²_h = n_h/(n_h−1) p̂_h(1−p̂_h).
A stratum checked in full (n_h = N_h) adds no variance; one with a single check cannot measure
its own.

95 % interval: a Wilson score interval at R̂ with an effective sample size n* (Korn & Graubard
1998; Dean & Pagano 2015 found it to keep its coverage in complex samples where the normal interval
does not). The normal (Wald) interval R̂ ± 1.96 SE, even clipped to [0, 1], collapses to a single
point whenever the checks of every stratum all passed (or all failed) — ten passes out of ten read
as "100 %, certain" — and undercovers badly near 0 and 1 with the few dozen checks a quarter has.
Wilson's interval stays inside [0, 1], is never empty, and is the interval every other rate here
uses (section 5). The effective size is
    n* = 1 / max(V̂ / (R̂ (1 − R̂)),  c),   c = Σ_h W_h² (1 − f_h) / m_h,
with W_h = N_h x̄_h / X̂ the stratum's share and m_h its trials (checks, or fields compared):
1/c is the effective size if every stratum had the same rate — for one stratum sampled at random
from a large population c = 1/n, the ordinary Wilson interval of k/n. Taking the larger of the two
variances, the interval is never narrower than a common rate would give (which also covers
R̂ = 0 or 1, single-check strata and strata whose checks all agree, where V̂ is 0), and wider when
the checks show more spread than that. When every stratum was checked in full (c = 0) nothing was
left to chance: the interval is the estimate itself.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from .statistics import DEFAULT_CONFIDENCE, Rate, z_value


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}必须是非负整数，收到 {value!r}")
    return value


@dataclass(frozen=True)
class StratumSample:
    """One stratum of a draw: its population size and the sums over its checked records.

    Each checked record contributes `trials` (1 for a pass/fail verdict; the fields compared for
    field accuracy) and `successes` (1 when it passed; the fields that matched). The sums of
    squares and of products are what the variance needs. Build it with `of_verdicts` or `of_units`.
    """

    population: int
    checked: int
    successes: int
    trials: int
    successes_squared: int
    trials_squared: int
    products: int
    targeted: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        for attribute, what in (("population", "分层总体数"), ("checked", "抽查数"), ("successes", "合格数"),
                                ("trials", "比对数"), ("successes_squared", "平方和"),
                                ("trials_squared", "平方和"), ("products", "乘积和")):
            _count(getattr(self, attribute), what)
        if self.checked > self.population:
            raise ValueError(f"分层数据不合理：总体 {self.population}，抽查 {self.checked}")
        if self.successes > self.trials:
            raise ValueError(f"分层数据不合理：合格 {self.successes} 多于比对 {self.trials}")
        if self.checked == 0 and self.trials:
            raise ValueError("分层没有抽查记录，却有比对数")

    @classmethod
    def of_verdicts(cls, population: int, checked: int, passed: int, *, targeted: bool = False,
                    name: str = "") -> StratumSample:
        """A stratum of N_h records of which n_h were checked and k_h passed (one trial each)."""
        _count(checked, "抽查数")
        _count(passed, "合格数")
        if passed > checked:
            raise ValueError(f"分层数据不合理：抽查 {checked}，合格 {passed}")
        return cls(population, checked, passed, checked, passed, checked, passed, targeted, name)

    @classmethod
    def of_units(cls, population: int, units: Iterable[tuple[int, int]], *, targeted: bool = False,
                 name: str = "") -> StratumSample:
        """A stratum from its checked records as (successes, trials) pairs, e.g. (matched, compared) fields."""
        pairs = [(_count(y, "合格数"), _count(x, "比对数")) for y, x in units]
        for y, x in pairs:
            if y > x:
                raise ValueError(f"记录的合格数 {y} 多于比对数 {x}")
        return cls(population, len(pairs), sum(y for y, _ in pairs), sum(x for _, x in pairs),
                   sum(y * y for y, _ in pairs), sum(x * x for _, x in pairs), sum(y * x for y, x in pairs),
                   targeted, name)

    @property
    def fraction(self) -> Fraction:
        """The sampling fraction n_h / N_h (0 for an empty stratum)."""
        return Fraction(self.checked, self.population) if self.population else Fraction(0)


@dataclass(frozen=True)
class DesignEstimate:
    """A stratum-weighted rate with its standard error and 95 % interval, beside the raw k/n.

    `exact` is None when no random stratum has a check (nothing to estimate from).
    """

    exact: Fraction | None
    standard_error: float | None
    low: float | None
    high: float | None
    effective_size: float | None  # n* of the Wilson interval; inf when every stratum was checked in full
    sample: Rate  # raw successes / trials over the estimated strata
    targeted: Rate  # the targeted strata's own successes / trials, outside the estimate
    population: int  # records in the estimated strata
    unchecked_population: int  # records in random strata without any check yet, left out
    unequal: bool  # the estimated strata were sampled at different rates (estimate and k/n may differ)
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def value(self) -> float | None:
        """The estimate as a float (None without data)."""
        return None if self.exact is None else float(self.exact)

    @property
    def has_data(self) -> bool:
        return self.exact is not None

    def as_dict(self) -> dict:
        """A JSON-ready form: the exact estimate as "p/q", the rest rounded for display."""
        def rounded(number: float | None, places: int = 6) -> str | None:
            return None if number is None else f"{number:.{places}f}"

        return {
            "exact": None if self.exact is None else str(self.exact),
            "value": rounded(self.value),
            "standard_error": rounded(self.standard_error),
            "low": rounded(self.low),
            "high": rounded(self.high),
            "effective_size": None if self.effective_size is None or math.isinf(self.effective_size)
            else rounded(self.effective_size, 2),
            "census": self.effective_size is not None and math.isinf(self.effective_size),
            "confidence": str(self.confidence),
            "sample": {"numerator": self.sample.numerator, "denominator": self.sample.denominator},
            "targeted": {"numerator": self.targeted.numerator, "denominator": self.targeted.denominator},
            "population": self.population,
            "unchecked_population": self.unchecked_population,
            "unequal": self.unequal,
        }


def wilson_bounds(rate: float, effective_size: float, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval at `rate` for a (possibly fractional) effective sample size."""
    if not 0 <= rate <= 1:
        raise ValueError(f"比率必须在 0 与 1 之间，收到 {rate}")
    if not effective_size > 0:
        raise ValueError(f"有效样本量必须大于 0，收到 {effective_size}")
    z = z_value(confidence)
    z2n = z * z / effective_size
    centre = (rate + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(rate * (1 - rate) / effective_size + z2n / (4 * effective_size))
    low = 0.0 if rate == 0 else max(0.0, centre - half)
    high = 1.0 if rate == 1 else min(1.0, centre + half)
    return low, high


def _sum(terms: Iterable[tuple[int, int]]) -> Fraction:
    """Σ numerator / denominator, exactly, over one common denominator: a quarter's cells are a
    hundred or more, and adding their Fractions one by one reduces ever larger numbers."""
    terms = list(terms)
    denominator = math.lcm(*(d for _, d in terms))
    return Fraction(sum(n * (denominator // d) for n, d in terms), denominator)


def _variance_terms(estimated: list[StratumSample], ratio: Fraction) -> Iterable[tuple[int, int]]:
    """Each stratum's N_h² (1 − n_h/N_h) s²_e,h / n_h × Q², as an integer fraction, where R̂ = P/Q.

    With e_i = y_i − R̂ x_i, (n − 1) s²_e = Σ e² − n ē² = [n (Σy² Q² − 2 P Q Σxy + P² Σx²) − (Q Σy − P Σx)²] / (n Q²),
    and N² (1 − n/N) = N (N − n). A stratum with fewer than two checks, or checked in full, adds nothing.
    """
    p, q = ratio.numerator, ratio.denominator
    for s in estimated:
        n, size = s.checked, s.population
        if n >= 2 and size != n:
            inner = (n * (s.successes_squared * q * q - 2 * p * q * s.products + p * p * s.trials_squared)
                     - (s.successes * q - p * s.trials) ** 2)
            yield size * (size - n) * inner, n * n * (n - 1)


def design_estimate(strata: Iterable[StratumSample], confidence: float = DEFAULT_CONFIDENCE) -> DesignEstimate:
    """The stratum-weighted estimate of successes / trials, its SE and 95 % interval (module docstring)."""
    strata = list(strata)
    targeted = [s for s in strata if s.targeted]
    random_strata = [s for s in strata if not s.targeted and s.population]
    estimated = [s for s in random_strata if s.checked]
    sample = Rate.of(sum(s.successes for s in estimated), sum(s.trials for s in estimated), confidence)
    apart = Rate.of(sum(s.successes for s in targeted), sum(s.trials for s in targeted), confidence)
    unchecked = sum(s.population for s in random_strata if not s.checked)
    population = sum(s.population for s in estimated)
    unequal = len({s.fraction for s in estimated}) > 1
    total = sum((Fraction(s.population * s.trials, s.checked) for s in estimated), Fraction(0))
    if total == 0:
        return DesignEstimate(None, None, None, None, None, sample, apart, population, unchecked, unequal, confidence)
    ratio = sum((Fraction(s.population * s.successes, s.checked) for s in estimated), Fraction(0)) / total
    # Exact sums over integer terms (see `_sum`): V̂ = Σ_h N_h² (1 − f_h) s²_e,h / n_h / X̂², and
    # c = Σ_h W_h² (1 − f_h) / m_h with W_h = N_h m_h / n_h / X̂, i.e. Σ_h N_h m_h (N_h − n_h) / n_h² / X̂².
    variance = _sum(_variance_terms(estimated, ratio)) / (ratio.denominator ** 2 * total ** 2)
    common = _sum((s.population * s.trials * (s.population - s.checked), s.checked * s.checked)
                  for s in estimated if s.trials) / total ** 2
    value = float(ratio)
    standard_error = math.sqrt(float(variance))
    if common == 0:
        return DesignEstimate(ratio, standard_error, value, value, math.inf, sample, apart, population, unchecked,
                              unequal, confidence)
    spread = variance / (ratio * (1 - ratio)) if 0 < ratio < 1 else Fraction(0)
    effective_size = float(1 / max(spread, common))
    low, high = wilson_bounds(value, effective_size, confidence)
    # The interval holds the estimate even where floating point rounding would put it a hair outside.
    return DesignEstimate(ratio, standard_error, min(low, value), max(high, value), effective_size, sample, apart,
                          population, unchecked, unequal, confidence)


def pass_rate_estimate(strata: Iterable[tuple[int, int, int, bool]],
                       confidence: float = DEFAULT_CONFIDENCE) -> DesignEstimate:
    """`design_estimate` of a pass rate from (N_h, n_h, k_h, targeted) per stratum."""
    return design_estimate((StratumSample.of_verdicts(size, checked, passed, targeted=targeted)
                            for size, checked, passed, targeted in strata), confidence)


def cell_strata(sizes: Mapping[str, int], units: Iterable[tuple[str, int, int]],
                targeted: Iterable[str] = ()) -> list[StratumSample]:
    """One `StratumSample` per cell of a frozen population: its size, and its checked records given
    as (cell, successes, trials). A check in a cell the population does not have is refused."""
    apart = set(targeted)
    found: dict[str, list[tuple[int, int]]] = {cell: [] for cell in sizes}
    for cell, successes, trials in units:
        if cell not in found:
            raise ValueError(f"抽查记录所在的分层“{cell}”不在冻结总体中")
        found[cell].append((successes, trials))
    return [StratumSample.of_units(sizes[cell], found[cell], targeted=cell in apart, name=cell) for cell in sizes]
