"""The county clock: stored UTC moments, county days and county times (北京时间, UTC+8)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, UTC
from zoneinfo import ZoneInfo

import pytest
import time_machine

from oversight.clock import (
    COUNTY_TIME_LABEL,
    county_now,
    county_time_heading,
    county_today,
    day_starts_at,
    format_county_time,
    local_day,
    replayed_at,
    to_county,
    utcnow,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_label_is_beijing_time():
    assert COUNTY_TIME_LABEL == "北京时间"


@time_machine.travel(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), tick=False)
def test_late_utc_evening_is_the_next_county_morning():
    assert utcnow() == datetime(2026, 3, 31, 23, 30)
    assert utcnow().tzinfo is None  # stored form: naive UTC
    now = county_now()
    assert now.utcoffset() == timedelta(hours=8)
    assert now.replace(tzinfo=None) == datetime(2026, 4, 1, 7, 30)
    assert now == datetime(2026, 4, 1, 7, 30, tzinfo=SHANGHAI)
    assert county_today() == date(2026, 4, 1)


@time_machine.travel(datetime(2026, 4, 1, 16, 0, tzinfo=UTC), tick=False)
def test_utc_afternoon_is_already_the_next_county_day():
    assert county_today() == date(2026, 4, 2)


def test_a_replayed_moment_is_the_county_now_as_well():
    with replayed_at(datetime(2026, 6, 30, 16, 0)):
        assert county_today() == date(2026, 7, 1)
        assert format_county_time(county_now()) == "2026-07-01 00:00"


@pytest.mark.parametrize(("stored", "day"), [
    (datetime(2026, 3, 31, 15, 59, 59), date(2026, 3, 31)),
    (datetime(2026, 3, 31, 16, 0, 0), date(2026, 4, 1)),
    (datetime(2026, 12, 31, 16, 0), date(2027, 1, 1)),
    (datetime(2026, 1, 1, 0, 0), date(2026, 1, 1)),
])
def test_local_day_of_a_stored_timestamp(stored, day):
    assert local_day(stored) == day


def test_local_day_accepts_an_aware_moment():
    assert local_day(datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI)) == date(2026, 4, 1)
    assert local_day(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == date(2026, 4, 1)


def test_day_starts_at_county_midnight_in_stored_utc():
    start = day_starts_at(date(2026, 4, 1))
    assert start == datetime(2026, 3, 31, 16, 0)
    assert local_day(start) == date(2026, 4, 1)
    assert local_day(start - timedelta(microseconds=1)) == date(2026, 3, 31)


def test_to_county_reads_naive_as_utc_and_converts_aware():
    assert to_county(None) is None
    assert to_county(datetime(2026, 3, 31, 23, 30)) == datetime(2026, 4, 1, 7, 30, tzinfo=SHANGHAI)
    shanghai = datetime(2026, 4, 1, 7, 30, tzinfo=SHANGHAI)
    assert to_county(shanghai) == shanghai
    assert to_county(shanghai).utcoffset() == timedelta(hours=8)


def test_format_county_time():
    stored = datetime(2026, 3, 31, 23, 30, 5)
    assert format_county_time(stored) == "2026-04-01 07:30"
    assert format_county_time(stored, "%Y-%m-%d %H:%M:%S") == "2026-04-01 07:30:05"
    assert format_county_time(stored, labelled=True) == "2026-04-01 07:30（北京时间）"
    assert format_county_time(None) == ""


def test_county_time_heading():
    assert county_time_heading("上传时间") == "上传时间（北京时间）"


def test_the_jinja_filter_is_registered(tmp_path):
    from oversight import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "unit",
                      "UPLOADS_DIR": str(tmp_path / "uploads"), "REPORTS_DIR": str(tmp_path / "reports")})
    template = app.jinja_env.from_string("{{ t|county_time }} {{ '时间'|county_heading }} {{ COUNTY_TIME_LABEL }}")
    assert template.render(t=datetime(2026, 3, 31, 23, 30)) == "2026-04-01 07:30 时间（北京时间） 北京时间"
