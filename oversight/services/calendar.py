"""A county's holiday calendar, read from its local standards (SPEC 8): due dates in working days."""
from __future__ import annotations

from datetime import date

from ..domain.working_days import HolidayCalendar
from .standards import year_calendar

# A count of working days from a day late in a year can run into the next: read both years.
_YEARS_AHEAD = 1


def working_calendar(county_id: int, start: date) -> HolidayCalendar:
    """The county's calendar for counting working days from `start`: the holidays and 调休 working
    days of its year and the next, each year's as the version in force on `start` lists them."""
    calendar = HolidayCalendar()
    for year in range(start.year, start.year + _YEARS_AHEAD + 1):
        calendar = calendar.merged(year_calendar(county_id, year, start))
    return calendar


def add_working_days(county_id: int, start: date, count: int) -> date:
    """The `count`-th working day after `start` by the county's calendar."""
    return working_calendar(county_id, start).add_working_days(start, count)
