from datetime import date

from oversight.extensions import db
from oversight.models import LocalStandard
from oversight.services.areas import home_county
from oversight.services.calendar import add_working_days


def _standard(year, holidays):
    db.session.add(LocalStandard(
        county_id=home_county().id, year=year, county="测试县", poverty_line_fen=82_000, care_allowance_tier1_fen=150_000,
        care_allowance_tier2_fen=100_000, care_allowance_tier3_fen=50_000, holidays=holidays))
    db.session.flush()


def test_due_dates_skip_the_holidays_the_standard_lists(app):
    _standard(2026, [f"2026-02-{day}" for day in range(15, 24)])
    assert add_working_days(home_county().id, date(2026, 2, 12), 5) == date(2026, 2, 27)


def test_a_count_from_late_december_reads_the_next_years_holidays(app):
    _standard(2026, [])
    _standard(2027, ["2027-01-01"])
    assert add_working_days(home_county().id, date(2026, 12, 30), 2) == date(2027, 1, 4)
