"""Appeals of failed spot checks and the separation of duties around them (issue 10, point 7).

A contractor may appeal a failed spot check within a number of working days (工作日, by the
county's holiday calendar) from the day the check was recorded. The appeal is decided by a supervisor other than the one who recorded the
check, optionally after a second re-check (复核) by someone other than the original checker.

The final verdict is the decision: upheld keeps the failure, overturned makes the check pass.
The field counts are measurements, not judgements: a recorded re-check replaces the original
comparison's counts, a decision alone does not change them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .vocabulary import AppealDecision
from .working_days import HolidayCalendar


class AppealRefused(ValueError):
    """An appeal step refused; the message is Chinese, for the user."""


def appeal_deadline(recorded_on: date, window_days: int, calendar: HolidayCalendar = HolidayCalendar()) -> date:
    """The last county day on which a check recorded on `recorded_on` may be appealed: the
    `window_days`-th working day after it (the day itself when 0)."""
    if window_days < 0:
        raise ValueError("申诉期限天数不能为负数")
    return calendar.add_working_days(recorded_on, window_days)


def check_appealable(*, passed: bool, recorded_on: date, today: date, window_days: int,
                     already_appealed: bool, calendar: HolidayCalendar = HolidayCalendar()) -> None:
    """Refuse an appeal of a passed check, a second appeal, or one after the window closed."""
    if passed:
        raise AppealRefused("复检合格，无需申诉")
    if already_appealed:
        raise AppealRefused("该抽查结果已提出申诉，不能重复申诉")
    deadline = appeal_deadline(recorded_on, window_days, calendar)
    if today > deadline:
        raise AppealRefused(f"申诉期已于 {deadline.isoformat()} 截止（复检录入后 {window_days} 个工作日内可申诉）")


def check_decider(*, decider_id: int, checker_id: int) -> None:
    """The decider must not be the supervisor who recorded the check."""
    if decider_id == checker_id:
        raise AppealRefused("录入该复检的监管人员不能裁决对它的申诉，须由另一名监管人员裁决")


def check_rechecker(*, rechecker_id: int, checker_id: int) -> None:
    """The second re-check must not be done by the supervisor who recorded the first."""
    if rechecker_id == checker_id:
        raise AppealRefused("复核须由原复检人以外的监管人员进行")


@dataclass(frozen=True)
class Verdict:
    """A spot check as the KPI counts it: pass or fail, and its field counts."""

    passed: bool
    compared: int
    differing: int


def final_verdict(original: Verdict, decision: str | None, recheck: Verdict | None = None) -> Verdict:
    """The verdict the KPI uses: the original until decided; then the decision's pass or fail
    with the re-check's field counts when one was recorded (else the original's)."""
    if decision is None:
        return original
    if decision not in AppealDecision.codes():
        raise ValueError(f"unknown appeal decision {decision!r}")
    measured = recheck or original
    return Verdict(decision == AppealDecision.OVERTURNED, measured.compared, measured.differing)
