"""Calendar quarters, the period of quarterly reviews, written like "2025Q3"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class InvalidQuarter(ValueError):
    """The text or numbers do not name a quarter; `str(error)` is the reason in Chinese."""


@dataclass(frozen=True, order=True)
class Quarter:
    """One calendar quarter; instances sort in time order."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise InvalidQuarter(f"年份应在1到9999之间，实际为{self.year}")
        if self.number not in (1, 2, 3, 4):
            raise InvalidQuarter(f"季度应为1到4，实际为{self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Parse "2025Q3" (case and surrounding spaces ignored)."""
        match = _QUARTER.match(str(text).strip().upper())
        if not match:
            raise InvalidQuarter(f"季度格式应如 2025Q3，实际为“{text}”")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}Q{self.number}"

    @property
    def start(self) -> date:
        """The first day of the quarter."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter (inclusive)."""
        return date(self.year, 3 * self.number, 31 if self.number in (1, 4) else 30)

    def contains(self, day: date) -> bool:
        """Whether the day falls within the quarter."""
        return self.start <= day <= self.end

    def previous(self) -> Quarter:
        """The quarter before this one."""
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        """The quarter after this one."""
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)


def quarter_of(day: date) -> Quarter:
    """The quarter a day falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def quarters_of_year(year: int) -> tuple[Quarter, ...]:
    """The four quarters of a year, in order."""
    return tuple(Quarter(year, number) for number in (1, 2, 3, 4))
