"""A past-performance score from a contractor's approved results, for a tender's scoring item.

Formula (exact, Decimal):

1. Each contract-year counts once. Its year score is the approved (审定锁定) annual evaluation's
   score; a year without one counts the mean of its approved quarterly review totals; a year with
   neither (drafts, published but not yet approved results) does not count.
2. The history score H is the mean of the year scores (0–100).
3. The item's points are H × `max_points` / 100, rounded half up to 0.01.
4. No counted year gives None: the tender's rules decide what a bidder without history scores
   (commonly the item's middle band), not this function.

Only approved results count, so a score cannot move while a result is still open to the
contractor's comment or a settlement.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class YearResult:
    """One contract-year's approved results: the annual score (None when not approved) and the
    approved quarterly totals."""

    contract_code: str
    year: int
    annual_score: Decimal | None
    quarter_totals: Sequence[Decimal] = ()

    @property
    def score(self) -> Decimal | None:
        """The year's score: the approved annual score, else the mean of approved quarters."""
        if self.annual_score is not None:
            return Decimal(self.annual_score)
        if self.quarter_totals:
            return sum((Decimal(total) for total in self.quarter_totals), Decimal(0)) / len(self.quarter_totals)
        return None

    @property
    def basis(self) -> str:
        """In words, what the year's score was taken from."""
        if self.annual_score is not None:
            return "年度评价（已审定）"
        if self.quarter_totals:
            return f"{len(self.quarter_totals)} 个已审定季度的平均分"
        return "无已审定结果，不计"


@dataclass(frozen=True)
class PastPerformance:
    history_score: Decimal | None  # mean of the counted years, exact
    points: Decimal | None  # the scoring item's points, to 0.01
    max_points: Decimal
    years: tuple[YearResult, ...]

    @property
    def counted(self) -> tuple[YearResult, ...]:
        return tuple(year for year in self.years if year.score is not None)


def past_performance_score(years: Iterable[YearResult], max_points: Decimal | int | str = 10) -> PastPerformance:
    """The item's points out of `max_points` from the contract-years' approved results (module docstring)."""
    max_points = Decimal(str(max_points))
    if max_points <= 0:
        raise ValueError(f"分值上限必须大于 0，收到 {max_points}")
    years = tuple(years)
    scores = [year.score for year in years if year.score is not None]
    if not scores:
        return PastPerformance(None, None, max_points, years)
    history = sum(scores, Decimal(0)) / len(scores)
    history = min(max(history, Decimal(0)), Decimal(100))
    points = (history * max_points / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return PastPerformance(history, points, max_points, years)
