"""Re-assessment on a change of condition (SPEC 7, issue 14): when it falls due, and from when a
changed care tier is in force.

- A reported change (情况变化报告) must be re-assessed within `REASSESSMENT_WORKING_DAYS` working
  days of the report day, counted by the county's calendar (`HolidayCalendar.add_working_days`:
  the report day itself is not counted).
- A person's care tier changes when an assessment's tier differs from the tier of the person's
  previous assessment (assessments in the order service date, record id). The change takes
  effect from its 生效日期: the date stated for it, or by default the first day of the month
  after the assessment (the monthly allowance changes from the next month). A stated date lies
  between the first day of the assessment's month and a year after the assessment.
- The tier in force on a day is that of the latest change (in assessment order) whose effective
  date is on or before the day: a later assessment supersedes an earlier one from its own date,
  even if the earlier one's date is yet to come.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from . import self_care

REASSESSMENT_WORKING_DAYS = 10
LATEST_EFFECTIVE_DAYS = 366

# The allowance columns of the local standards are per tier number (一档 … 三档).
TIER_NUMBERS: Mapping[str, int] = {
    self_care.TIER_BY_CONCLUSION[self_care.CONCLUSION_NONE]: 1,
    self_care.TIER_BY_CONCLUSION[self_care.CONCLUSION_PARTIAL]: 2,
    self_care.TIER_BY_CONCLUSION[self_care.CONCLUSION_FULL]: 3,
}


class EffectiveDateRefused(ValueError):
    """A stated 生效日期 outside what the rule allows; the message is Chinese, for the user."""


def first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def default_effective_date(assessed_on: date) -> date:
    """The default 生效日期 of a tier change: the first day of the month after the assessment."""
    return first_of_next_month(assessed_on)


def check_effective_date(assessed_on: date, effective_from: date) -> date:
    """The stated date if the rule allows it (module docstring), else EffectiveDateRefused."""
    earliest = assessed_on.replace(day=1)
    latest = assessed_on + timedelta(days=LATEST_EFFECTIVE_DAYS)
    if effective_from < earliest:
        raise EffectiveDateRefused(f"生效日期不能早于评估当月1日（{earliest.isoformat()}）")
    if effective_from > latest:
        raise EffectiveDateRefused(f"生效日期不能晚于评估后一年（{latest.isoformat()}）")
    return effective_from


@dataclass(frozen=True)
class Assessed:
    """One self-care assessment of a person: its record, day, conclusion and any stated 生效日期."""

    record_id: int
    assessed_on: date
    conclusion: str
    stated_from: date | None = None

    @property
    def tier(self) -> str:
        return self_care.TIER_BY_CONCLUSION[self.conclusion]


@dataclass(frozen=True)
class TierChange:
    """A change of the person's tier: from `previous` (None: the first assessment) to `tier`."""

    record_id: int
    assessed_on: date
    previous: str | None
    tier: str
    effective_from: date
    stated: bool  # the effective date was stated, not the default

    @property
    def number(self) -> int:
        return TIER_NUMBERS[self.tier]


def tier_changes(assessments: Iterable[Assessed]) -> list[TierChange]:
    """The tier changes of one person's assessments, in assessment order (service date, record id)."""
    changes = []
    previous = None
    for item in sorted(assessments, key=lambda a: (a.assessed_on, a.record_id)):
        if item.conclusion not in self_care.TIER_BY_CONCLUSION:
            continue
        if item.tier != previous:
            changes.append(TierChange(item.record_id, item.assessed_on, previous, item.tier,
                                      item.stated_from or default_effective_date(item.assessed_on),
                                      item.stated_from is not None))
        previous = item.tier
    return changes


def change_in_force(changes: Iterable[TierChange], day: date) -> TierChange | None:
    """The change whose tier is in force on `day` (None: no tier yet), see the module docstring."""
    found = None
    for change in changes:  # in assessment order: the last that has taken effect wins
        if change.effective_from <= day:
            found = change
    return found


def on_time(completed: bool, completed_day: date | None, due: date) -> bool:
    """A re-assessment done by its due date (the county day of its completion)."""
    return completed and completed_day is not None and completed_day <= due
