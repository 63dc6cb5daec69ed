"""Which period a scheduled job owes at a given moment; the basis of exactly-once and catch-up."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import vocabulary
from .periods import quarter_of

CADENCES = vocabulary.Cadence.codes()


@dataclass(frozen=True)
class Cadence:
    """How often a job runs; its period key names the work one run does."""

    kind: str

    def __post_init__(self):
        if self.kind not in CADENCES:
            raise ValueError(f"unknown cadence {self.kind!r}")

    def due_period(self, today: date) -> str:
        """The most recent period whose run is due on `today`.

        daily: today; monthly: this month (issued on its first day); quarterly: the quarter that
        ended last (drawn and scored after its end); yearly: the year that ended last.
        """
        if self.kind == "daily":
            return today.isoformat()
        if self.kind == "monthly":
            return f"{today.year:04d}-{today.month:02d}"
        if self.kind == "quarterly":
            return str(quarter_of(today).previous())
        return str(today.year - 1)


def month_bounds(period_key: str) -> tuple[date, date]:
    """First and last day of a "YYYY-MM" period."""
    year, month = (int(part) for part in period_key.split("-"))
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
