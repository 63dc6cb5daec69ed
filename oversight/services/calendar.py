"""A county's holiday calendar, read from its local standards (SPEC 8): due dates in working days."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..domain.working_days import HolidayCalendar
from ..extensions import db
from ..models import LocalStandard

# A count of working days from a day late in a year can run into the next: read both years.
_YEARS_AHEAD = 1


def working_calendar(county_id: int, start: date) -> HolidayCalendar:
    """The county's calendar for counting working days from `start`: its year's holidays and the next's."""
    holidays = db.session.execute(
        select(LocalStandard.holidays).where(LocalStandard.county_id == county_id,
                                             LocalStandard.year.between(start.year, start.year + _YEARS_AHEAD))
    ).scalars()
    return HolidayCalendar.of(holidays=[day for year_days in holidays for day in (year_days or [])])


def add_working_days(county_id: int, start: date, count: int) -> date:
    """The `count`-th working day after `start` by the county's calendar."""
    return working_calendar(county_id, start).add_working_days(start, count)
