"""The county clock is the only clock: no module of the application or the demo seeding asks the
server for its zone's date or time (`date.today()`, `datetime.now()` without the county zone,
`datetime.utcnow()`, `time.localtime()` …). Only `oversight/clock.py` reads the system clock."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOCK = ROOT / "oversight" / "clock.py"
SCANNED = sorted([*(ROOT / "oversight").rglob("*.py"), *(ROOT / "seeds").rglob("*.py")])

# Calls that answer in the server's zone (or in naive UTC behind the clock's back), whoever makes them.
_ALWAYS = {
    ("date", "today"), ("datetime", "today"), ("datetime", "utcnow"), ("datetime", "utcfromtimestamp"),
    ("time", "localtime"), ("time", "mktime"), ("time", "ctime"), ("time", "asctime"), ("time", "strftime"),
    ("Timestamp", "now"), ("Timestamp", "today"),
}
# Calls that are fine only when given the county's zone.
_ZONED = {("datetime", "now"), ("datetime", "fromtimestamp")}
_COUNTY_ZONE = "COUNTY_TZ"
_TIME_NAMES = {"localtime", "mktime", "ctime", "asctime", "strftime"}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _zone_argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "tz":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def server_clock_calls(source: str, *, is_clock: bool = False) -> list[str]:
    """`line: call` for every use of the server's clock in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"{node.lineno}: from time import {alias.name}" for alias in node.names
                      if alias.name in _TIME_NAMES]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = _dotted(node.func.value) or ""
        key = (owner.rsplit(".", 1)[-1], node.func.attr)
        name = f"{owner}.{node.func.attr}"
        if key in _ALWAYS:
            found.append(f"{node.lineno}: {name}()")
        elif key in _ZONED:
            zone = _zone_argument(node, 0 if node.func.attr == "now" else 1)
            zone_name = _dotted(zone) if zone is not None else None
            if is_clock and zone is not None:
                continue  # the clock itself reads the system clock, in an explicit zone
            if zone_name is None or zone_name.rsplit(".", 1)[-1] != _COUNTY_ZONE:
                found.append(f"{node.lineno}: {name}() without {_COUNTY_ZONE}")
    return found


@pytest.mark.parametrize("source", [
    "from datetime import date\ndate.today()",
    "import datetime\ndatetime.date.today()",
    "from datetime import datetime\ndatetime.now()",
    "from datetime import datetime, timezone\ndatetime.now(timezone.utc)",
    "from datetime import datetime\ndatetime.utcnow()",
    "import time\ntime.localtime()",
    "from time import localtime",
    "from datetime import datetime\ndatetime.fromtimestamp(0)",
    "import pandas as pd\npd.Timestamp.now()",
])
def test_the_check_finds_a_server_clock(source):
    assert server_clock_calls(source)


@pytest.mark.parametrize("source", [
    "from oversight.clock import county_today\ncounty_today()",
    "from datetime import datetime\nfrom oversight.clock import COUNTY_TZ\ndatetime.now(COUNTY_TZ)",
    "from datetime import datetime\nfrom oversight import clock\ndatetime.now(tz=clock.COUNTY_TZ)",
    "import time\ntime.time(); time.perf_counter(); time.monotonic()",
    "from datetime import date\ndate(2026, 4, 1).isoformat()",
])
def test_the_check_lets_the_county_clock_through(source):
    assert server_clock_calls(source) == []


def test_the_scan_covers_the_application_and_the_seeds():
    names = {path.relative_to(ROOT).as_posix() for path in SCANNED}
    assert {"oversight/clock.py", "oversight/jobs.py", "oversight/web/dashboard/routes.py", "seeds/demo.py"} <= names


def test_no_module_reads_the_server_clock():
    found = {path.relative_to(ROOT).as_posix(): calls for path in SCANNED
             if (calls := server_clock_calls(path.read_text(encoding="utf-8"), is_clock=path == CLOCK))}
    assert found == {}
