"""A year of assignments: bureau numbers, working-day due dates and outcomes relative to today."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from oversight.clock import BUREAU_UTC_OFFSET

from .reference import public_holidays, public_working_days

ONE_DAY = timedelta(days=1)
_OVERDUE_NOTES = ("多次上门未遇", "对象外出务工，待返乡后补做", "对象住院，待出院后上门")


def shift_month(first: date, months: int) -> date:
    """The first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_windows(term_start: date, count: int = 12) -> list[tuple[date, date]]:
    """(first day, last day) of each month of a term that starts on the first of a month."""
    return [(shift_month(term_start, m), shift_month(term_start, m + 1) - ONE_DAY) for m in range(count)]


@dataclass(frozen=True)
class Profile:
    """How reliably a contractor works: shares of past-due work done, done late, cancelled, and
    of its records that a re-check finds wrong."""

    completion: float
    late: float
    cancellation: float
    errors: float


class WorkCalendar:
    """Working days: Monday to Friday, less the public holidays of the years involved, and the
    weekend days worked instead (调休)."""

    def __init__(self, years: range):
        self.holidays = {day for year in years for day in public_holidays(year)}
        self.worked = {day for year in years for day in public_working_days(year)}

    def is_working_day(self, day: date) -> bool:
        return day in self.worked or (day.weekday() < 5 and day not in self.holidays)

    def first_working_day(self, start: date, end: date) -> date:
        day = start
        while day < end and not self.is_working_day(day):
            day += ONE_DAY
        return day

    def last_working_day(self, start: date, end: date) -> date:
        day = end
        while day > start and not self.is_working_day(day):
            day -= ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        while count:
            day += ONE_DAY
            count -= self.is_working_day(day)
        return day


class Schedule:
    """Collects assignment rows, numbering them per issue day and drawing their status."""

    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        self.rows: list[dict] = []
        self._sequences: dict[date, int] = {}

    def add(self, *, contract_id: int, subject_id: int, service_type: str, issue: date, due: date,
            profile: Profile, required_visits: int = 1, note: str | None = None,
            cancelled: str | None = None, cancel_reasons: tuple[str, ...] = ()) -> None:
        """Add one assignment; `cancelled` forces a cancellation with that note."""
        # Work for later months is issued ahead of time, so no number carries a future date.
        issue = min(issue, self.today)
        sequence = self._sequences[issue] = self._sequences.get(issue, 0) + 1
        if cancelled is None and cancel_reasons and self.rng.random() < profile.cancellation:
            cancelled = self.rng.choice(cancel_reasons)
        if cancelled is not None:
            status, completed_at, note = "cancelled", None, cancelled
        else:
            status, completed_at = self._outcome(issue, due, profile, required_visits)
            if status == "overdue" and note is None and self.rng.random() < 0.3:
                note = self.rng.choice(_OVERDUE_NOTES)
        created_at = self._moment(issue, 8 * 60, 60)
        self.rows.append({
            "number": f"RW{issue:%Y%m%d}-{sequence:06d}",
            "contract_id": contract_id,
            "subject_id": subject_id,
            "service_type": service_type,
            "due_date": due,
            "status": status,
            "required_visits": required_visits,
            "completed_at": completed_at,
            "note": note,
            "created_at": created_at,
            "updated_at": completed_at or created_at,
        })

    def _outcome(self, issue: date, due: date, profile: Profile, visits: int) -> tuple[str, datetime | None]:
        rng, today = self.rng, self.today
        if due < today:
            if rng.random() >= profile.completion:
                return "overdue", None
            if rng.random() < profile.late and (today - due).days > 1:
                return "completed", self._moment(due + timedelta(days=rng.randint(1, min(25, (today - due).days - 1))))
            # The last of several visits closes the assignment, so it tends to fall late in the window;
            # visits are on distinct days, so the last is at least `visits - 1` days in.
            offset = max(visits - 1, *(rng.randint(0, (due - issue).days) for _ in range(visits)))
            return "completed", self._moment(issue + timedelta(days=offset))
        if issue + timedelta(days=visits) <= today:
            elapsed = (today - issue).days / ((due - issue).days + 1)
            if rng.random() < profile.completion * elapsed ** visits:
                offset = rng.randint(visits - 1, (today - issue).days - 1)
                return "completed", self._moment(issue + timedelta(days=offset))
        return "assigned", None

    def _moment(self, day: date, start_minute: int = 8 * 60 + 30, span_minutes: int = 570) -> datetime:
        """A time of the county's working day `day`, stored as UTC like every timestamp."""
        local = datetime.combine(day, time()) + timedelta(minutes=start_minute + self.rng.randrange(span_minutes))
        return local - BUREAU_UTC_OFFSET

    def continue_after(self, numbers) -> None:
        """Number each issue day on from the highest of `numbers` (RW20260105-000012, another
        county's in the same database): bureau numbers are unique over all counties."""
        for number in numbers:
            day = date(int(number[2:6]), int(number[6:8]), int(number[8:10]))
            self._sequences[day] = max(self._sequences.get(day, 0), int(number.rsplit("-", 1)[1]))

    def numbered_rows(self) -> list[dict]:
        """The rows in number order, so that ids follow the numbers."""
        return sorted(self.rows, key=lambda row: row["number"])
