"""Appeal rules: the window, who may decide and re-check, the final verdict."""
from datetime import date

import pytest

from oversight.domain.appeals import (
    AppealRefused,
    Verdict,
    appeal_deadline,
    check_appealable,
    check_decider,
    check_rechecker,
    final_verdict,
)
from oversight.domain.working_days import HolidayCalendar

FAILED = Verdict(False, 10, 2)


SPRING_FESTIVAL_2026 = HolidayCalendar.of(
    holidays=[date(2026, 1, day) for day in (1, 2, 3)] + [date(2026, 2, day) for day in range(15, 24)],
    working_days=[date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28)])


def test_the_window_ends_the_given_number_of_working_days_after_the_recording_day():
    assert appeal_deadline(date(2025, 12, 25), 10) == date(2026, 1, 8)  # weekends only
    assert appeal_deadline(date(2025, 12, 25), 10, SPRING_FESTIVAL_2026) == date(2026, 1, 9)
    assert appeal_deadline(date(2025, 10, 16), 0) == date(2025, 10, 16)
    with pytest.raises(ValueError):
        appeal_deadline(date(2025, 10, 16), -1)


def test_the_window_skips_the_spring_festival_and_counts_its_weekend_working_days():
    # Thu 12 Feb: 13th, Sat 14th (调休), 24th–27th, Sat 28th (调休), 2nd–4th March.
    assert appeal_deadline(date(2026, 2, 12), 10, SPRING_FESTIVAL_2026) == date(2026, 3, 4)
    assert appeal_deadline(date(2026, 2, 12), 10) == date(2026, 2, 26)


def test_the_last_day_of_the_window_is_still_open():
    check_appealable(passed=False, recorded_on=date(2025, 10, 16), today=date(2025, 10, 30), window_days=10,
                     already_appealed=False)
    with pytest.raises(AppealRefused, match="2025-10-30 截止"):
        check_appealable(passed=False, recorded_on=date(2025, 10, 16), today=date(2025, 10, 31), window_days=10,
                         already_appealed=False)
    check_appealable(passed=False, recorded_on=date(2026, 2, 12), today=date(2026, 3, 4), window_days=10,
                     already_appealed=False, calendar=SPRING_FESTIVAL_2026)


def test_passed_or_already_appealed_checks_are_refused():
    with pytest.raises(AppealRefused, match="无需申诉"):
        check_appealable(passed=True, recorded_on=date(2025, 10, 16), today=date(2025, 10, 16), window_days=10,
                         already_appealed=False)
    with pytest.raises(AppealRefused, match="重复申诉"):
        check_appealable(passed=False, recorded_on=date(2025, 10, 16), today=date(2025, 10, 16), window_days=10,
                         already_appealed=True)


def test_the_checker_neither_decides_nor_rechecks():
    check_decider(decider_id=2, checker_id=1)
    check_rechecker(rechecker_id=2, checker_id=1)
    with pytest.raises(AppealRefused):
        check_decider(decider_id=1, checker_id=1)
    with pytest.raises(AppealRefused):
        check_rechecker(rechecker_id=1, checker_id=1)


def test_the_final_verdict_is_the_decision_with_the_latest_measurement():
    assert final_verdict(FAILED, None) == FAILED
    assert final_verdict(FAILED, None, Verdict(True, 4, 0)) == FAILED  # a re-check alone decides nothing
    assert final_verdict(FAILED, "overturned") == Verdict(True, 10, 2)
    assert final_verdict(FAILED, "overturned", Verdict(True, 4, 0)) == Verdict(True, 4, 0)
    assert final_verdict(FAILED, "upheld", Verdict(True, 4, 0)) == Verdict(False, 4, 0)
    assert final_verdict(FAILED, "upheld") == FAILED
    with pytest.raises(ValueError):
        final_verdict(FAILED, "maybe")
