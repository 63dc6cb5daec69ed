"""Completion-log files (SPEC section 4): template columns and whole-file validation.

`validate_log` takes the table from `reading.read_table` (or the pieces of `reading.iter_table`)
and the facts of one contract (`LogContext`) and returns either typed records (every row good)
or the refused cells. Rows that hold nothing but the prefilled columns (a prefilled template's
untouched rows) are skipped and counted, not refused. Times are "HH:MM" strings, dates
`datetime.date`, money integer fen.
Template order: the common columns, the service's own, then 备注.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oversight.adapters.tables.cells import (
    EXCEL_ROW,
    CellError,
    ErrorCollector,
    Parsed,
    Reason,
    map_distinct,
    match_columns,
    parse_choices,
    parse_dates,
    parse_fen,
    parse_id_numbers,
    parse_integers,
    parse_numbers,
    parse_text,
    parse_times,
    parse_with,
    series_form,
    time_minutes,
)
from oversight.adapters.tables.reading import rows_with_text
from oversight.domain import self_care
from oversight.domain.vocabulary import ServiceType
from oversight.domain.money import format_yuan

CARE_ITEMS = ("日常看护", "生活照料", "送医陪护", "人文关怀", "心理疏导", "精神慰藉", "环境适应", "社会融入", "能力提升")
SURVEY_CONCLUSIONS = ("符合", "不符合", "需复核")
MIN_MINUTES, MAX_MINUTES = 5, 480
REMARK_MAX_LENGTH = 500
LONGITUDE_RANGE = (73, 136)
LATITUDE_RANGE = (3, 54)
INCOME_TOLERANCE_FEN = 100
MAX_HOUSEHOLD_SIZE = 20
MAX_ITEM_COUNT = 99


@dataclass(frozen=True)
class Column:
    """One template column: Chinese header, English record key, required or not, a hint."""

    header: str
    key: str
    required: bool = True
    note: str = ""


_COMMON = (
    Column("任务编号", "number", note="局方下发的任务编号"),
    Column("服务对象姓名", "subject_name", note="与任务中的服务对象一致"),
    Column("身份证号", "id_number", note="18位居民身份证号"),
    Column("服务日期", "service_date", note="如 2024-03-05，在合同期内且不晚于今天"),
    Column("开始时间", "start_time", note="HH:MM，如 09:30"),
    Column("结束时间", "end_time", note=f"HH:MM，晚于开始时间，时长{MIN_MINUTES}–{MAX_MINUTES}分钟"),
    Column("服务人员工号", "worker_no", note="从下拉列表选择已登记的服务人员"),
    Column("服务人员姓名", "worker_name", note="与工号登记的姓名一致"),
    Column("经度", "longitude", False, "可选，与纬度同时填写，如 116.397"),
    Column("纬度", "latitude", False, "可选，与经度同时填写，如 39.908"),
)
_REMARK = Column("备注", "remark", False, f"可选，最多{REMARK_MAX_LENGTH}字")
INCOME_PARTS = (
    Column("工资性收入(元)", "wage_income_fen", False, "可选；填写各项收入时，合计应等于家庭年收入"),
    Column("经营净收入(元)", "business_income_fen", False, "可选，可为负数"),
    Column("财产净收入(元)", "property_income_fen", False, "可选"),
    Column("转移净收入(元)", "transfer_income_fen", False, "可选"),
    Column("其他收入(元)", "other_income_fen", False, "可选"),
)
_SURVEY = (
    Column("家庭人口数", "household_size", note=f"1–{MAX_HOUSEHOLD_SIZE}"),
    Column("家庭年收入(元)", "annual_income_fen", note="近12个月，最多两位小数"),
    *INCOME_PARTS,
    Column("家庭金融资产(元)", "financial_assets_fen", note="存款、有价证券、基金、保险、债权等"),
    Column("房产数量", "property_count", False, "可选，整数"),
    Column("机动车数量", "vehicle_count", False, "可选，整数"),
    Column("调查结论", "survey_conclusion", note="、".join(SURVEY_CONCLUSIONS)),
)
_SELF_CARE = (
    *(Column(label, key, note="能 / 不能") for key, label in self_care.ITEMS),
    Column("评估结论", "conclusion", note="、".join(self_care.CONCLUSIONS)),
)
_CARE = (
    Column("服务项目", "care_items", note="可多选，用、分隔：" + "、".join(CARE_ITEMS)),
    Column("对象签字确认", "signed", note="是 / 否"),
)
PREFILLED_COLUMNS = _COMMON[:3]
"""The columns a prefilled template fills in for each open assignment (任务编号, 姓名, 身份证号)."""
TEMPLATE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "household_survey": (*_COMMON, *_SURVEY, _REMARK),
    "self_care_assessment": (*_COMMON, *_SELF_CARE, _REMARK),
    "care_visit": (*_COMMON, *_CARE, _REMARK),
}

_COMMON_RECORD: dict[str, Any] = {
    EXCEL_ROW: "int64", "assignment_id": None, "service_date": object, "start_time": object,
    "end_time": object, "duration_minutes": "int64", "worker_no": object,
    "longitude": "float64", "latitude": "float64", "remark": object,
}
RECORD_COLUMNS: dict[str, dict[str, Any]] = {
    "household_survey": {
        **_COMMON_RECORD, "household_size": "int64", "annual_income_fen": "int64",
        **{column.key: "Int64" for column in INCOME_PARTS}, "financial_assets_fen": "int64",
        "property_count": "Int64", "vehicle_count": "Int64", "survey_conclusion": object,
        "per_capita_monthly_income_fen": "int64",
    },
    "self_care_assessment": {
        **_COMMON_RECORD, **{key: bool for key in self_care.ITEM_KEYS}, "conclusion": object, "fails": "int64",
    },
    "care_visit": {**_COMMON_RECORD, "care_items": object, "signed": bool},
}
"""Columns of the records DataFrame per service type, in order, with their dtypes (None: as given)."""

SURVEY_CONCLUSION_WORDS = {"符合": "符合", "不符合": "不符合", "需复核": "需复核", "需要复核": "需复核"}
SELF_CARE_WORDS = {**{word: True for word in self_care.MET_WORDS},
                   **{word: False for word in self_care.NOT_MET_WORDS}}
SELF_CARE_CONCLUSION_WORDS = {
    **{conclusion: conclusion for conclusion in self_care.CONCLUSIONS},
    "具备": self_care.CONCLUSION_FULL,
    "部分丧失": self_care.CONCLUSION_PARTIAL,
    "完全丧失": self_care.CONCLUSION_NONE,
}
SIGNED_WORDS = {"是": True, "否": False, "已签字": True, "未签字": False, "√": True, "×": False}
_CARE_SEPARATORS = re.compile(r"[、,;，；]")
_MIDDLE_DOTS = str.maketrans({".": "·", "•": "·", "・": "·", "．": "·"})


@dataclass(frozen=True)
class LogContext:
    """What a log is checked against: one contract, its assignments, workers and stored visits.

    assignments: number, assignment_id, subject_name, id_number, service_type, status, township.
    workers: worker_no, name (the contractor's registered field workers).
    existing: assignment_id, service_date (date), start_time ("HH:MM" or `datetime.time`).
    poverty_line_fen: 低保标准 per person per month, for the anomaly flags only.
    poverty_lines: the 低保标准 versions (`local_standards.PovertyLine`) by the day they take
        effect, urban and rural, for the flags; `assignments` then carries `urban`.
    """

    service_type: str
    contract_start: dt.date
    contract_end: dt.date
    today: dt.date
    assignments: pd.DataFrame
    workers: pd.DataFrame
    existing: pd.DataFrame
    poverty_line_fen: int | None = None
    poverty_lines: tuple = ()


@dataclass(frozen=True)
class LogValidation:
    """The typed records when the whole file is good, else None and the refused cells (the
    first ones only when more than `max_errors` were found: `unlisted` counts the others).
    `skipped` counts the rows left out because nothing but the prefilled columns was filled in."""

    records: pd.DataFrame | None
    errors: list[CellError]
    unlisted: int = 0
    skipped: int = 0

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.unlisted

    @property
    def accepted(self) -> bool:
        """True when the file is accepted whole."""
        return self.records is not None


def validate_log(table: pd.DataFrame | Iterable[pd.DataFrame], ctx: LogContext,
                 max_errors: int | None = None, skip_unstarted: bool = True,
                 on_piece: Callable[[pd.DataFrame], None] | None = None) -> LogValidation:
    """Check every rule of SPEC section 4; accept the file whole or refuse it whole.

    `table` is `reading.read_table`'s frame, or `reading.iter_table`'s pieces for large files
    (records are then kept only while no error has been found). Every error is counted, the
    first `max_errors` are kept. With `skip_unstarted`, rows holding nothing but the prefilled
    columns are left out and counted in `skipped`; the others are checked in full.

    `on_piece`, when given, is called with each piece's typed records (the rows of the final
    `records` frame) as soon as that piece is checked, while no error has been found so far, so
    that a caller may start storing them; the file may still be refused afterwards (a later
    piece's errors, rows repeated across pieces), so what it stores must be undone then.
    """
    chunks = iter([table]) if isinstance(table, pd.DataFrame) else iter(table)
    first = next(chunks)
    columns = TEMPLATE_COLUMNS[ctx.service_type]
    found, errors = match_columns(first, [c.header for c in columns], [c.header for c in columns if c.required])
    if errors:
        return LogValidation(None, errors)
    headers = {c.key: found.get(c.header, c.header) for c in columns}
    lookups = _Lookups(ctx)
    rows_hint = len(table) if isinstance(table, pd.DataFrame) else getattr(table, "rows_hint", len(first))
    records: _RecordBuffer | None = _RecordBuffer(RECORD_COLUMNS[ctx.service_type], rows_hint)
    prefilled = [headers[column.key] for column in PREFILLED_COLUMNS]
    keys, rows, counted, skipped = [], 0, 0, 0
    for chunk in itertools.chain([first], chunks):
        if skip_unstarted:
            started = _started_rows(chunk, prefilled)
            if not started.all():
                skipped += int((~started).sum())
                chunk = chunk[started]
        check = _LogCheck(chunk, ctx, headers, lookups)
        part = check.run()
        counted += check.collector.count()
        errors.extend(check.collector.errors(None if max_errors is None else max(max_errors - len(errors), 0)))
        keys.append(check.keys)
        rows += len(chunk)
        if counted:
            records = None
        elif len(chunk):
            begun = records.size
            records.add(part)
            if on_piece is not None:
                on_piece(records.frame(begun))
    if not rows:
        reason = f"{skipped:,} 行只有预填的任务信息，没有填写服务内容" if skipped else "文件中没有数据行"
        return LogValidation(None, [CellError(2, "", "", reason)], skipped=skipped)
    repeated = _repeated(pd.concat(keys), ctx, headers["number"])
    if repeated is not None:
        counted += repeated.count()
        order = {str(column): position for position, column in enumerate(first.columns)}
        errors = sorted([*errors, *repeated.errors(max_errors)], key=lambda e: (e.row, order.get(e.column, len(order))))
        errors = errors[:max_errors]
    if counted:
        return LogValidation(None, errors, counted - len(errors), skipped)
    return LogValidation(records.frame(), [], skipped=skipped)


def _started_rows(table: pd.DataFrame, prefilled: Iterable[str]) -> pd.Series:
    """Rows with text in some column other than the prefilled ones: rows someone started."""
    return rows_with_text(table.drop(columns=list(prefilled), errors="ignore"))


class _RecordBuffer:
    """Typed record columns filled piece by piece into arrays sized once from a row hint.

    Joining the pieces at the end would hold the records twice, and freed pieces do not give
    their memory back to the system.
    """

    def __init__(self, dtypes: dict[str, Any], capacity: int):
        self.dtypes, self.capacity, self.size = dtypes, max(capacity, 1), 0
        self.arrays: dict[str, list[np.ndarray]] = {}

    def add(self, part: dict[str, Any]) -> None:
        """Append one piece's columns (consumed from `part`)."""
        count = len(part[EXCEL_ROW])
        if self.size + count > self.capacity:
            self.capacity = max(2 * self.capacity, self.size + count)
            for arrays in self.arrays.values():
                arrays[:] = [np.resize(array, self.capacity) for array in arrays]
        end = self.size + count
        for key, dtype in self.dtypes.items():
            column = pd.Series(part.pop(key))
            column = column if dtype is None else column.astype(dtype)
            pieces = _numpy_parts(column)
            if key not in self.arrays:
                self.arrays[key] = [np.empty(self.capacity, dtype=piece.dtype) for piece in pieces]
            for array, piece in zip(self.arrays[key], pieces):
                array[self.size:end] = piece
        self.size = end

    def frame(self, start: int = 0) -> pd.DataFrame:
        """The records from the `start`-th on (views, not copies), one row per data row of the file."""
        columns = {}
        for key, dtype in self.dtypes.items():
            arrays = [array[start: self.size] for array in self.arrays[key]]
            values = pd.arrays.IntegerArray(*arrays) if dtype == "Int64" else arrays[0]
            columns[key] = pd.Series(values, dtype=values.dtype, copy=False)
        return pd.DataFrame(columns, copy=False)


def _numpy_parts(column: pd.Series) -> list[np.ndarray]:
    """A column as numpy arrays: values and mask for a nullable integer, else the values."""
    if isinstance(column.dtype, pd.Int64Dtype):
        return [column.to_numpy(dtype="int64", na_value=0), column.isna().to_numpy()]
    return [column.to_numpy()]


def _repeated(keys: pd.DataFrame, ctx: LogContext, column: str) -> ErrorCollector | None:
    """Rows repeating an earlier row of the file, or a stored record (assignment, date, start).

    `keys` holds, per usable row (indexed by Excel row), the assignment, day number and start
    minute; the errors show the assignment's number as issued.
    """
    key = ["assignment", "day", "start"]
    earlier = keys.duplicated(key, keep="first")
    stored = pd.Series(False, index=keys.index)
    existing = ctx.existing
    if existing is not None and len(existing) and len(keys):
        known = pd.MultiIndex.from_arrays([
            existing["assignment_id"].to_numpy(), day_numbers(existing["service_date"]).to_numpy(),
            time_minutes(existing["start_time"]).astype(float).to_numpy(),
        ])
        stored[:] = pd.MultiIndex.from_arrays([keys[k].to_numpy() for k in key]).isin(known)
    bad = earlier | stored
    if not bad.any():
        return None
    assignments = ctx.assignments.drop_duplicates("assignment_id")
    numbers = pd.Series(assignments["number"].to_numpy(), index=assignments["assignment_id"].to_numpy())
    errors = ErrorCollector(pd.DataFrame({column: keys.loc[bad, "assignment"].map(numbers)}))
    first_row = pd.Series(keys.index, index=keys.index).groupby([keys[k] for k in key]).transform("min")
    errors.add_where(column, earlier, lambda r: "与第" + first_row[r].astype(str) + "行重复（同一任务、服务日期和开始时间）")
    errors.add_where(column, stored, "与已保存的记录重复（同一任务、服务日期和开始时间）")
    return errors


def _code_key(value: Any) -> str:
    """Numbers and codes as compared: half-width, no white space, upper case."""
    text = value if type(value) is str else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).upper()


def _name_key(value: Any) -> str:
    """Names as compared: half-width, no white space, one kind of middle dot."""
    return _code_key(value).translate(_MIDDLE_DOTS)


def _code_keys(texts: pd.Series) -> pd.Series:
    # NFKC leaves ASCII as it is, so normalising every text is what _code_key does; `\s` is
    # str.isspace's white space, which str.split splits on.
    return texts.str.normalize("NFKC").str.replace(r"\s+", "", regex=True).str.upper()


series_form(_code_key, _code_keys)


def _day_number(value: Any) -> float:
    """Proleptic ordinal of a date, datetime, Timestamp or ISO string."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return float(value.toordinal())


def day_numbers(dates: pd.Series) -> pd.Series:
    """Ordinals of a column of dates (float, NaN where missing), for vectorised comparisons."""
    return map_distinct(dates, _day_number, na_value=np.nan).astype(float)


class _KeyIndex:
    """Finds rows of a frame by a key column: as stored first, the misses again once normalised."""

    def __init__(self, frame: pd.DataFrame, column: str):
        self.frame, self.column = frame, column
        self.stored = _FirstIndex(frame[column].to_numpy(dtype=object))
        self._normalised: _FirstIndex | None = None

    def find(self, wanted: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
        """(found mask, rows aligned to wanted); where nothing is found the row is arbitrary."""
        positions = self.stored.positions(wanted)
        missing = (positions < 0) & wanted.notna().to_numpy()
        if missing.any():
            if self._normalised is None:
                self._normalised = _FirstIndex(map_distinct(self.frame[self.column], _code_key).to_numpy())
            positions[missing] = self._normalised.positions(wanted[missing])
        found = positions >= 0
        if len(self.frame):
            rows = self.frame.iloc[np.where(found, positions, 0)].set_axis(wanted.index)
        else:
            rows = pd.DataFrame({c: pd.Series(None, index=wanted.index, dtype=object) for c in self.frame.columns})
        return pd.Series(found, index=wanted.index), rows


class _FirstIndex:
    """Position of the first occurrence of each key."""

    def __init__(self, keys: np.ndarray):
        index = pd.Index(keys)
        self.first = np.flatnonzero(~index.duplicated())
        self.index = index[self.first]

    def positions(self, wanted: pd.Series) -> np.ndarray:
        """Position of each wanted value, −1 where absent."""
        if not len(self.first):
            return np.full(len(wanted), -1)
        found = self.index.get_indexer(wanted.to_numpy())
        return np.where(found >= 0, self.first[np.maximum(found, 0)], -1)


class _Lookups:
    """The contract's assignments and workers, indexed once for every piece of a file."""

    def __init__(self, ctx: LogContext):
        self.assignments = _KeyIndex(ctx.assignments, "number")
        self.workers = _KeyIndex(ctx.workers, "worker_no")


def _differs(given: pd.Series, expected: pd.Series, key: Callable[[Any], str]) -> pd.Series:
    """Where `given` and `expected` differ even after normalising both with `key`."""
    differs = (given != expected) & given.notna()
    if differs.any():
        differs[differs] = map_distinct(given[differs], key) != map_distinct(expected[differs], key)
    return differs


class _LogCheck:
    """One validation run: parses each column, records reasons, builds the records."""

    def __init__(self, table: pd.DataFrame, ctx: LogContext, headers: dict[str, str], lookups: _Lookups):
        self.table, self.ctx, self.headers, self.lookups = table, ctx, headers, lookups
        self.collector = ErrorCollector(table)
        self.records: dict[str, Any] = {EXCEL_ROW: table.index.to_numpy()}
        self.keys = pd.DataFrame()

    def raw(self, key: str) -> pd.Series:
        header = self.headers[key]
        if header in self.table.columns:
            return self.table[header]
        return pd.Series("", index=self.table.index, dtype=object)

    def take(self, key: str, parsed: Parsed) -> pd.Series:
        return self.collector.add_parsed(self.headers[key], parsed)

    def refuse(self, key: str, mask: pd.Series, reason: Reason) -> None:
        self.collector.add_where(self.headers[key], mask, reason)

    def run(self) -> dict[str, Any] | None:
        """The record columns of this piece, or None when it has errors."""
        assignment_id, usable = self.assignment()
        self.dates_and_times(assignment_id, usable)
        self.worker()
        self.coordinates()
        self.records["remark"] = self.take("remark", parse_text(self.raw("remark"), required=False,
                                                                max_length=REMARK_MAX_LENGTH))
        {"household_survey": self.survey, "self_care_assessment": self.self_care, "care_visit": self.care}[
            self.ctx.service_type]()
        return None if self.collector else self.records

    def assignment(self) -> tuple[pd.Series, pd.Series]:
        ctx = self.ctx
        number = self.take("number", parse_with(self.raw("number"), str, normalise=_code_key))
        found, rows = self.lookups.assignments.find(number)
        given = number.notna()
        cancelled = found & (rows["status"] == "cancelled")
        other_type = found & ~cancelled & (rows["service_type"] != ctx.service_type)
        self.refuse("number", given & ~found, "本合同中没有该任务编号")
        self.refuse("number", cancelled, "该任务已取消")
        label = ServiceType.labels().get(ctx.service_type, ctx.service_type)
        self.refuse("number", other_type, lambda r: "该任务为" + rows["service_type"][r].map(ServiceType.labels())
                    .fillna("其他") + f"任务，不能填入{label}记录表")
        usable = given & found & ~cancelled & ~other_type

        name = self.take("subject_name", parse_text(self.raw("subject_name")))
        expected = rows["subject_name"].astype(object)
        name_differs = usable & _differs(name, expected, _name_key)
        self.refuse("subject_name", name_differs, lambda r: "与任务对象姓名不一致（应为：" + expected[r] + "）")

        id_number = self.take("id_number", parse_id_numbers(self.raw("id_number"), today=ctx.today))
        id_differs = usable & _differs(id_number, rows["id_number"].astype(object), _code_key)
        self.refuse("id_number", id_differs, "与任务对象的身份证号不一致")
        self.records["assignment_id"] = rows["assignment_id"]
        return rows["assignment_id"], usable

    def dates_and_times(self, assignment_id: pd.Series, usable: pd.Series) -> None:
        ctx = self.ctx
        dates = self.take("service_date", parse_dates(self.raw("service_date")))
        days = day_numbers(dates)
        self.refuse("service_date", days > ctx.today.toordinal(), f"服务日期不能晚于今天（{ctx.today}）")
        self.refuse("service_date", days < ctx.contract_start.toordinal(),
                    f"早于合同起始日（{ctx.contract_start}）")
        self.refuse("service_date", days > ctx.contract_end.toordinal(), f"晚于合同终止日（{ctx.contract_end}）")

        start = self.take("start_time", parse_times(self.raw("start_time")))
        end = self.take("end_time", parse_times(self.raw("end_time")))
        start_minutes, end_minutes = time_minutes(start), time_minutes(end)
        duration = end_minutes - start_minutes
        self.refuse("end_time", duration <= 0, "结束时间应晚于开始时间")
        out_of_range = (duration > 0) & ((duration < MIN_MINUTES) | (duration > MAX_MINUTES))
        self.refuse("end_time", out_of_range, lambda r: "服务时长为" + duration[r].astype(str)
                    + f"分钟，应在{MIN_MINUTES}到{MAX_MINUTES}分钟之间")
        self.records.update(service_date=dates, start_time=start, end_time=end, duration_minutes=duration)
        keyed = (usable & days.notna() & start_minutes.notna()).to_numpy()
        self.keys = pd.DataFrame({
            "assignment": assignment_id[keyed], "day": days[keyed], "start": start_minutes[keyed].astype(float),
        })

    def worker(self) -> None:
        number = self.take("worker_no", parse_with(self.raw("worker_no"), str, normalise=_code_key))
        found, rows = self.lookups.workers.find(number)
        self.refuse("worker_no", number.notna() & ~found, "该工号不是本承接主体登记的服务人员")
        name = self.take("worker_name", parse_text(self.raw("worker_name")))
        expected = rows["name"].astype(object)
        differs = found & _differs(name, expected, _name_key)
        self.refuse("worker_name", differs, lambda r: "与该工号登记的姓名不一致（应为：" + expected[r] + "）")
        self.records["worker_no"] = rows["worker_no"]

    def coordinates(self) -> None:
        longitude = parse_numbers(self.raw("longitude"), *LONGITUDE_RANGE, required=False)
        latitude = parse_numbers(self.raw("latitude"), *LATITUDE_RANGE, required=False)
        given_longitude = longitude.values.notna() | longitude.bad
        given_latitude = latitude.values.notna() | latitude.bad
        self.take("longitude", longitude)
        self.take("latitude", latitude)
        self.refuse("latitude", given_longitude & ~given_latitude, "经度和纬度应同时填写或同时留空")
        self.refuse("longitude", given_latitude & ~given_longitude, "经度和纬度应同时填写或同时留空")
        self.records.update(longitude=longitude.values, latitude=latitude.values)

    def survey(self) -> None:
        size = self.take("household_size", parse_integers(self.raw("household_size"), 1, MAX_HOUSEHOLD_SIZE))
        income = self.take("annual_income_fen", parse_fen(self.raw("annual_income_fen")))
        parts = {
            column.key: self.take(column.key, parse_fen(self.raw(column.key), required=False,
                                                        negative_allowed=column.key == "business_income_fen"))
            for column in INCOME_PARTS
        }
        frame = pd.DataFrame(parts)
        parts_bad = np.logical_or.reduce([self.collector.bad(self.headers[key]) for key in parts])
        total = frame.sum(axis=1, skipna=True)
        given = frame.notna().any(axis=1) & ~parts_bad & income.notna()
        differs = given & ((total - income).abs() > INCOME_TOLERANCE_FEN)
        self.refuse("annual_income_fen", differs,
                    lambda r: "各项收入合计" + total[r].map(format_yuan) + "元，与家庭年收入相差超过1元")
        assets = self.take("financial_assets_fen", parse_fen(self.raw("financial_assets_fen")))
        counts = {
            key: self.take(key, parse_integers(self.raw(key), 0, MAX_ITEM_COUNT, required=False))
            for key in ("property_count", "vehicle_count")
        }
        conclusion = self.take("survey_conclusion", parse_choices(
            self.raw("survey_conclusion"), SURVEY_CONCLUSION_WORDS, shown=SURVEY_CONCLUSIONS))
        self.records.update(
            household_size=size, annual_income_fen=income, **parts, financial_assets_fen=assets, **counts,
            survey_conclusion=conclusion,
            per_capita_monthly_income_fen=(income * 2 + size * 12) // (size * 24),
        )

    def self_care(self) -> None:
        items = {
            key: self.take(key, parse_choices(self.raw(key), SELF_CARE_WORDS, shown=("能", "不能")))
            for key in self_care.ITEM_KEYS
        }
        frame = pd.DataFrame(items)
        complete = frame.notna().all(axis=1)
        fails = (frame == False).sum(axis=1)  # noqa: E712 - elementwise comparison, NA stays out
        computed = fails.map({n: self_care.conclusion_for_fails(n) for n in range(len(items) + 1)})
        stated = self.take("conclusion", parse_choices(
            self.raw("conclusion"), SELF_CARE_CONCLUSION_WORDS, shown=self_care.CONCLUSIONS))
        differs = complete & stated.notna() & (stated != computed)
        self.refuse("conclusion", differs,
                    lambda r: "按六项指标（" + fails[r].astype(str) + "项未达到）应为「" + computed[r] + "」")
        self.records.update(items, conclusion=stated, fails=fails)

    def care(self) -> None:
        items = self.take("care_items", parse_with(self.raw("care_items"), _care_items))
        signed = self.take("signed", parse_choices(self.raw("signed"), SIGNED_WORDS, shown=("是", "否")))
        self.records.update(care_items=items, signed=signed)


def _care_items(text: str) -> str:
    """Care items from the fixed list, separated by 、 ， , ; or ；, joined by 、 without repeats."""
    items = [item.strip() for item in _CARE_SEPARATORS.split(text) if item.strip()]
    unknown = [item for item in items if item not in CARE_ITEMS]
    if unknown:
        raise ValueError(f"「{'、'.join(unknown)}」不是规定的服务项目（可选：{'、'.join(CARE_ITEMS)}）")
    if not items:
        raise ValueError("至少填写一个服务项目")
    return "、".join(dict.fromkeys(items))
