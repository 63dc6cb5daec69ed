"""A contract's standing from its quarterly results: two quarters in a row under 80 points raise a
warning (grounds for not renewing or ending the contract, SPEC section 6)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .periods import Quarter

WARNING_THRESHOLD = Decimal(80)
WARNING_RUN = 2


@dataclass(frozen=True)
class Standing:
    """Whether the results raise the warning, and the quarters of the latest run that does."""

    below_threshold: bool
    quarters: tuple[str, ...] = ()
    threshold: Decimal = WARNING_THRESHOLD
    run: int = WARNING_RUN


def standing(totals: Mapping[Quarter, Decimal], threshold: Decimal = WARNING_THRESHOLD,
             run: int = WARNING_RUN) -> Standing:
    """The standing from each result's total by quarter: `run` consecutive quarters strictly below
    `threshold` raise the warning; a quarter without a result breaks a run."""
    if run < 1:
        raise ValueError("run must be at least 1")
    latest: list[Quarter] = []
    streak: list[Quarter] = []
    if totals:
        quarter, last = min(totals), max(totals)
        while quarter <= last:
            total = totals.get(quarter)
            streak = streak + [quarter] if total is not None and total < threshold else []
            if len(streak) >= run:
                latest = streak
            quarter = quarter.next()
    return Standing(bool(latest), tuple(str(quarter) for quarter in latest), threshold, run)
