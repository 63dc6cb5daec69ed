"""The upload rules on 100,000 rows, in one process, without a database.

    .venv/bin/python bench/rules.py

Prints the seconds of:

- read + parse: a 4-column CSV read by `reading.read_table`, then its dates, times, amounts
  and ID numbers parsed (`adapters.tables.cells`);
- validate: a valid household-survey log read and checked by every SPEC section 4 rule
  (`domain.completion_log.validate_log`); the script stops if any row is refused;
- flags: the anomaly flags of 100,000 random survey records (`domain.anomalies`).
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum.cn import ric  # noqa: E402

from oversight.adapters.tables.cells import parse_dates, parse_fen, parse_id_numbers, parse_times  # noqa: E402
from oversight.adapters.tables.reading import read_table  # noqa: E402
from oversight.domain.anomalies import AnomalyContext, anomaly_flags, has_flags  # noqa: E402
from oversight.domain.completion_log import LogContext, validate_log  # noqa: E402

ROWS = 100_000
TODAY = dt.date(2025, 6, 30)


def read_and_parse() -> None:
    frame = pd.DataFrame({
        "身份证号": ["11010519491231002X"] * ROWS,
        "服务日期": np.array(["2024-03-05", "2024/3/6", "20240307"])[np.arange(ROWS) % 3],
        "开始时间": np.array(["09:00", "9:30", "10:15"])[np.arange(ROWS) % 3],
        "金额": (np.arange(ROWS) * 1.25).astype(str),
    })
    data = frame.to_csv(index=False).encode()
    started = time.perf_counter()
    table = read_table(data, "speed.csv")
    parse_dates(table["服务日期"]), parse_times(table["开始时间"]), parse_fen(table["金额"])
    parse_id_numbers(table["身份证号"], today=TODAY)
    print(f"read + parse 4 columns of {ROWS:,} rows: {time.perf_counter() - started:.2f} s")


def _id_number(serial: int, birth: str) -> str:
    body = f"110105{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def validate() -> None:
    rng = np.random.default_rng(7)
    numbers = [f"JD{i:06d}" for i in range(ROWS)]
    ids = [_id_number(i % 1000, f"19{40 + i // 1000 % 60:02d}0101") for i in range(ROWS)]
    assignments = pd.DataFrame({"number": numbers, "assignment_id": np.arange(ROWS), "subject_name": "张三",
                                "id_number": ids, "service_type": "household_survey", "status": "assigned",
                                "township": "城关镇"})
    workers = pd.DataFrame({"worker_no": ["W01"], "name": ["赵六"]})
    existing = pd.DataFrame({"assignment_id": [-1], "service_date": [dt.date(2024, 3, 1)], "start_time": ["08:00"]})
    start = rng.integers(8 * 60, 16 * 60, ROWS)
    table = pd.DataFrame({
        "任务编号": numbers, "服务对象姓名": "张三", "身份证号": ids,
        "服务日期": pd.Series(pd.date_range("2024-01-01", periods=150)).dt.strftime("%Y-%m-%d").to_numpy()[
            rng.integers(0, 150, ROWS)],
        "开始时间": [f"{m // 60:02d}:{m % 60:02d}" for m in start],
        "结束时间": [f"{m // 60:02d}:{m % 60:02d}" for m in start + 45],
        "服务人员工号": "W01", "服务人员姓名": "赵六", "家庭人口数": "3",
        "家庭年收入(元)": (rng.integers(0, 10_000_000, ROWS) / 100).astype(str), "家庭金融资产(元)": "1000.50",
        "调查结论": "符合",
        "经度": (116 + rng.random(ROWS)).round(5).astype(str), "纬度": (39 + rng.random(ROWS)).round(5).astype(str),
    })
    data = table.to_csv(index=False).encode()
    ctx = LogContext("household_survey", dt.date(2024, 1, 1), dt.date(2024, 12, 31), TODAY, assignments, workers,
                     existing)
    started = time.perf_counter()
    read = read_table(data, "big.csv")
    parsed = time.perf_counter()
    result = validate_log(read, ctx)
    done = time.perf_counter()
    if result.errors:
        sys.exit(f"the benchmark's log was refused: {result.errors[:3]}")
    print(f"{ROWS:,} survey rows: read {parsed - started:.2f} s, validate {done - parsed:.2f} s")


def flag() -> None:
    rng = np.random.default_rng(3)
    day = dt.date(2024, 3, 5)
    start = rng.integers(6 * 60, 20 * 60, ROWS)
    records = pd.DataFrame({
        "assignment_id": rng.integers(1, 7, ROWS), "worker_no": rng.integers(0, 200, ROWS),
        "service_date": (pd.Timestamp(day) + pd.to_timedelta(rng.integers(0, 150, ROWS), unit="D")).date,
        "start_time": [f"{m // 60:02d}:{m % 60:02d}" for m in start],
        "end_time": [f"{m // 60:02d}:{m % 60:02d}" for m in start + 30], "duration_minutes": 30,
        "longitude": 116.4 + rng.random(ROWS) / 10, "latitude": 39.9 + rng.random(ROWS) / 10,
        "household_size": rng.integers(1, 6, ROWS), "annual_income_fen": rng.integers(0, 9_000_000, ROWS),
        "financial_assets_fen": rng.integers(0, 100_000, ROWS),
        "survey_conclusion": np.array(["符合", "不符合", "需复核"])[rng.integers(0, 3, ROWS)],
        "per_capita_monthly_income_fen": rng.integers(0, 200_000, ROWS),
    })
    assignments = pd.DataFrame({"assignment_id": [1, 2, 3, 4, 5, 6], "id_number": list("ABCDEF"),
                                "township": ["城关镇"] * 3 + ["北山乡"] * 3})
    ctx = AnomalyContext(assignments, township_centres={"城关镇": (116.40, 39.90), "北山乡": (116.40, 40.20)},
                         poverty_line_fen=80_000)
    started = time.perf_counter()
    flags = anomaly_flags(records, ctx)
    print(f"flags on {ROWS:,} records: {time.perf_counter() - started:.2f} s, {has_flags(flags).sum():,} flagged")


if __name__ == "__main__":
    read_and_parse()
    validate()
    flag()
