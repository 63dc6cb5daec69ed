"""The pure rules of re-assessment: due dates in working days, tier changes and their effective dates."""
from datetime import date

import pytest

from oversight.domain import self_care
from oversight.domain.reassessment import (
    REASSESSMENT_WORKING_DAYS,
    Assessed,
    EffectiveDateRefused,
    change_in_force,
    check_effective_date,
    default_effective_date,
    on_time,
    tier_changes,
)
from oversight.domain.working_days import HolidayCalendar

FULL, PARTIAL, NONE = self_care.CONCLUSION_FULL, self_care.CONCLUSION_PARTIAL, self_care.CONCLUSION_NONE
SPRING_FESTIVAL = HolidayCalendar.of(holidays=[f"2026-02-{day}" for day in range(15, 24)])


def test_a_change_reported_before_the_spring_festival_falls_due_on_the_tenth_working_day_after():
    due = SPRING_FESTIVAL.add_working_days(date(2026, 2, 12), REASSESSMENT_WORKING_DAYS)
    # 13 Feb is the first; 14 Feb a Saturday, 15–23 Feb the holiday; 24 Feb the second … 6 Mar the tenth.
    assert due == date(2026, 3, 6)
    assert SPRING_FESTIVAL.working_days_between(date(2026, 2, 12), due) == 10
    assert HolidayCalendar().add_working_days(date(2026, 2, 12), REASSESSMENT_WORKING_DAYS) == date(2026, 2, 26)


@pytest.mark.parametrize(("assessed", "default"), [
    (date(2026, 3, 6), date(2026, 4, 1)), (date(2026, 12, 31), date(2027, 1, 1)), (date(2026, 3, 1), date(2026, 4, 1)),
])
def test_a_change_takes_effect_by_default_on_the_first_day_of_the_next_month(assessed, default):
    assert default_effective_date(assessed) == default


def test_a_stated_date_lies_between_the_assessment_months_first_day_and_a_year_after():
    assert check_effective_date(date(2026, 3, 6), date(2026, 3, 1)) == date(2026, 3, 1)
    assert check_effective_date(date(2026, 3, 6), date(2027, 3, 6)) == date(2027, 3, 6)
    with pytest.raises(EffectiveDateRefused, match="不能早于评估当月1日"):
        check_effective_date(date(2026, 3, 6), date(2026, 2, 28))
    with pytest.raises(EffectiveDateRefused, match="不能晚于评估后一年"):
        check_effective_date(date(2026, 3, 6), date(2027, 3, 8))


def test_only_an_assessment_whose_tier_differs_from_the_previous_one_is_a_change():
    changes = tier_changes([
        Assessed(3, date(2026, 3, 6), NONE),
        Assessed(1, date(2025, 5, 10), FULL),
        Assessed(2, date(2025, 11, 2), FULL),  # same tier: no change
        Assessed(4, date(2026, 3, 6), NONE),  # same day, later record, same tier
    ])
    assert [(c.record_id, c.previous, c.tier, c.effective_from, c.stated) for c in changes] == [
        (1, None, "三档 全自理", date(2025, 6, 1), False),
        (3, "三档 全自理", "一档 全护理", date(2026, 4, 1), False),
    ]
    assert [c.number for c in changes] == [3, 1]


def test_the_tier_in_force_follows_the_effective_dates_and_a_later_assessment_supersedes():
    changes = tier_changes([
        Assessed(1, date(2025, 5, 10), FULL),
        Assessed(2, date(2026, 3, 6), NONE, stated_from=date(2026, 3, 1)),
        Assessed(3, date(2026, 3, 20), PARTIAL, stated_from=date(2026, 3, 25)),
    ])
    assert change_in_force(changes, date(2025, 5, 31)) is None
    assert change_in_force(changes, date(2025, 6, 1)).tier == "三档 全自理"
    assert change_in_force(changes, date(2026, 3, 1)).tier == "一档 全护理"
    assert change_in_force(changes, date(2026, 3, 25)).tier == "二档 半护理"
    # Stated back to before an earlier change's date, the later assessment still wins from its date on.
    later = tier_changes([Assessed(1, date(2026, 3, 6), NONE, stated_from=date(2026, 5, 1)),
                          Assessed(2, date(2026, 4, 2), PARTIAL, stated_from=date(2026, 4, 1))])
    assert [change_in_force(later, day).tier for day in (date(2026, 4, 15), date(2026, 5, 15))] == [
        "二档 半护理", "二档 半护理"]


def test_a_re_assessment_is_on_time_when_completed_by_its_due_day():
    due = date(2026, 3, 6)
    assert on_time(True, due, due) and not on_time(True, date(2026, 3, 7), due)
    assert not on_time(False, None, due) and not on_time(False, date(2026, 3, 1), due)
