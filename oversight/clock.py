"""The county's clock: the one place that knows what time and what day it is.

The bureau works in China Standard Time (北京时间, UTC+8, no daylight saving). Timestamps are
stored as naive UTC (`utcnow()`); calendar dates (due dates, deadlines, check days, quarters) are
county days. Nothing else in the code asks the server for the time or the date: the server's own
zone (`date.today()`, `datetime.now()`, `time.localtime()`) never decides an answer, so a server
running in UTC between 00:00 and 08:00 China time answers as one running in Asia/Shanghai.

Every time shown to a person is county time and says so (`COUNTY_TIME_LABEL`,
`format_county_time`, the Jinja filter `|county_time`).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# Timestamps are stored in UTC; deadlines are China Standard Time days (UTC+8, no daylight saving).
BUREAU_UTC_OFFSET = timedelta(hours=8)
COUNTY_TIME_LABEL = "北京时间"
COUNTY_TZ = timezone(BUREAU_UTC_OFFSET, COUNTY_TIME_LABEL)

DEFAULT_TIME_FORMAT = "%Y-%m-%d %H:%M"

# Set only while the demo replays past work (seeds/activity.py), so that every timestamp the
# services write reads the moment the step is meant to have happened.
_replayed_moment: ContextVar[datetime | None] = ContextVar("replayed_moment", default=None)


def utcnow() -> datetime:
    """Naive UTC now, the form every timestamp column stores (the replayed moment while one is set)."""
    return _replayed_moment.get() or datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def replayed_at(moment: datetime) -> Iterator[None]:
    """Within the block, `utcnow()` returns `moment` (naive UTC) in this context only."""
    token = _replayed_moment.set(moment)
    try:
        yield
    finally:
        _replayed_moment.reset(token)


def _as_stored_utc(moment: datetime) -> datetime:
    """A moment as the database stores it: naive UTC (a naive moment already is)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_county(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) or aware moment as an aware datetime in county time."""
    if moment is None:
        return None
    return _as_stored_utc(moment).replace(tzinfo=UTC).astimezone(COUNTY_TZ)


def county_wall_time(moment: datetime | None) -> datetime | None:
    """A stored (UTC) moment as the naive county wall-clock time, for a spreadsheet cell or a zip
    entry (they hold no zone; the column heading says 北京时间)."""
    county = to_county(moment)
    return None if county is None else county.replace(tzinfo=None)


def county_now() -> datetime:
    """Now, in county time (aware)."""
    return to_county(utcnow())


def county_today() -> date:
    """Today in the county: the day every due date, deadline and quarter is counted by."""
    return county_now().date()


def local_day(moment: datetime) -> date:
    """The county's calendar day of a stored (UTC) timestamp."""
    return (_as_stored_utc(moment) + BUREAU_UTC_OFFSET).date()


def day_starts_at(day: date) -> datetime:
    """County midnight at the start of `day`, as a stored (naive UTC) timestamp: `local_day(t) >= day`
    exactly when `t >= day_starts_at(day)`."""
    return datetime.combine(day, time()) - BUREAU_UTC_OFFSET


def format_county_time(moment: datetime | None, fmt: str = DEFAULT_TIME_FORMAT, *, labelled: bool = False) -> str:
    """A stored (UTC) moment written in county time, e.g. "2026-04-01 07:30"; with `labelled`,
    followed by "（北京时间）". None is written as an empty string."""
    if moment is None:
        return ""
    text = to_county(moment).strftime(fmt)
    return f"{text}（{COUNTY_TIME_LABEL}）" if labelled else text


def county_time_heading(title: str) -> str:
    """A column heading for county times: "上传时间" → "上传时间（北京时间）"."""
    return f"{title}（{COUNTY_TIME_LABEL}）"


class local_day_of(FunctionElement):
    """`local_day` in SQL, of a timestamp column: a DATE, comparable with a date column (on
    SQLite both are ISO text). Lets the database compare days over many rows, where Python
    would first have to turn every stored timestamp into a datetime."""

    type = Date()
    name = "local_day_of"
    inherit_cache = True


_OFFSET_HOURS = int(BUREAU_UTC_OFFSET / timedelta(hours=1))


@compiles(local_day_of, "sqlite")
def _local_day_on_sqlite(element, compiler, **kw) -> str:
    # Up to the seconds only: SQLite rounds fractions to milliseconds, so 23:59:59.9995 in the
    # county would fall on the next day.
    return f"date(substr({compiler.process(element.clauses, **kw)}, 1, 19), '+{_OFFSET_HOURS} hours')"


@compiles(local_day_of)
def _local_day_in_standard_sql(element, compiler, **kw) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} + INTERVAL '{_OFFSET_HOURS} hours' AS DATE)"
