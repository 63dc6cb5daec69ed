from datetime import date

import pytest

from oversight.domain.areas import AreaCodeError, ancestor_codes, bureau_name, level_of, parent_code
from oversight.domain.vocabulary import AreaLevel
from oversight.domain.working_days import HolidayCalendar


@pytest.mark.parametrize(("code", "level"), [
    ("360000", AreaLevel.PROVINCE), ("360700", AreaLevel.CITY), ("360704", AreaLevel.COUNTY),
    ("360704100", AreaLevel.TOWNSHIP), ("360704100201", AreaLevel.VILLAGE),
])
def test_level_of_reads_the_code(code, level):
    assert level_of(code) is level


@pytest.mark.parametrize("code", ["36070", "3607041", "36070410020", "00000", "000100", "36a704"])
def test_a_malformed_code_is_refused_in_chinese(code):
    with pytest.raises(AreaCodeError, match="区划代码"):
        level_of(code)


def test_ancestors_of_a_village_run_up_to_the_province():
    assert ancestor_codes("360704100201") == ["360704100", "360704", "360700", "360000"]
    assert parent_code("360000") is None


# 2026 (国办发明电〔2025〕号): 春节 2月15日至23日放假, 2月14日（周六）、2月28日（周六）上班.
SPRING_2026 = HolidayCalendar.of(
    holidays=[date(2026, 2, day) for day in range(15, 24)],
    working_days=[date(2026, 2, 14), date(2026, 2, 28)],
)


@pytest.mark.parametrize(("county", "city", "bureau"), [
    ("赣县区", "赣州市", "赣州市赣县区民政局"),  # a city's district after its city
    ("赣州市章贡区", "赣州市", "赣州市章贡区民政局"),  # already named with it
    ("信丰县", "赣州市", "信丰县民政局"),  # a county, a county-level city by their own names
    ("瑞金市", "赣州市", "瑞金市民政局"),
    ("朝阳区", "市辖区", "朝阳区民政局"),  # a city with no name of its own
    ("南康区", "360700", "南康区民政局"),
    ("南康区", None, "南康区民政局"),
])
def test_a_countys_bureau_is_named_from_its_place_under_its_city(county, city, bureau):
    assert bureau_name(county, city) == bureau


def test_ten_working_days_across_the_spring_festival():
    # Reported Thursday 12 Feb: 13 (Fri), 14 (Sat, 调休), then the holiday to 23, 24–27, 28 (Sat, 调休), 2–4 Mar.
    assert SPRING_2026.add_working_days(date(2026, 2, 12), 10) == date(2026, 3, 4)
    # Without the calendar the same count ends before the festival is over.
    assert HolidayCalendar().add_working_days(date(2026, 2, 12), 10) == date(2026, 2, 26)


def test_a_worked_weekend_and_a_holiday_weekday():
    assert SPRING_2026.is_working_day(date(2026, 2, 14))
    assert not SPRING_2026.is_working_day(date(2026, 2, 16))
    assert not SPRING_2026.is_working_day(date(2026, 2, 22))
    assert SPRING_2026.working_days_between(date(2026, 2, 12), date(2026, 3, 4)) == 10


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        SPRING_2026.add_working_days(date(2026, 2, 12), -1)
