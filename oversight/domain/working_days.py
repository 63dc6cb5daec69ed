"""Working days by the county's holiday calendar: 法定节假日 off, 调休 weekend days on.

A due date "in N working days" counts from the day after the event, so a change reported on the
Friday before the Spring Festival with 10 working days falls due well after the holiday.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class HolidayCalendar:
    """One county's calendar: `holidays` are days off, `working_days` weekend days worked (调休)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[date | str] = (), working_days: Iterable[date | str] = ()) -> HolidayCalendar:
        """A calendar from dates or ISO strings (as a standard stores them)."""
        return cls(frozenset(_as_date(day) for day in holidays), frozenset(_as_date(day) for day in working_days))

    def merged(self, other: HolidayCalendar) -> HolidayCalendar:
        """Both calendars' days (a count that crosses New Year reads two years' standards)."""
        return HolidayCalendar(self.holidays | other.holidays, self.working_days | other.working_days)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (`start` itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` <= `start`)."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days += 1
        return days


def _as_date(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)
