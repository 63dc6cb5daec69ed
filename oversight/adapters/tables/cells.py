"""Cells of uploaded tables: matching headers, vectorised parsing, collecting refused cells.

A table is a DataFrame of strings indexed by the row number the user sees in Excel (see
`reading.read_table`). The `parse_*` functions take one column and return a `Parsed`: the typed
values (missing or bad cells as NA) and the Chinese reasons of the bad cells only, indexed by
their rows. Row-by-row Python work is done over the distinct values of a column, never over the
rows.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from oversight.domain.identifiers import normalize_id_number, normalize_mobile, to_half_width

EXCEL_ROW = "excel_row"
REQUIRED_REASON = "不能为空"

_DATE = re.compile(
    r"^(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?|(\d{2})(\d{2}))$"
)
_TIME = re.compile(
    r"^(?:\d{4}-\d{1,2}-\d{1,2}[ T])?(\d{1,2})\s*[:时点]\s*(\d{1,2})\s*分?"
    r"(?::(\d{1,2})(?:\.\d+)?)?$"
)
_DAY_FRACTION = re.compile(r"^0?\.\d+$|^0$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_MAX_YUAN = 1e10


@dataclass(frozen=True, slots=True)
class CellError:
    """One refused cell: Excel row, column header as in the file, raw value, Chinese reason."""

    row: int
    column: str
    value: str
    reason: str


class Parsed(NamedTuple):
    """Typed values of one column and the reasons of its bad cells (indexed by their rows)."""

    values: pd.Series
    errors: pd.Series

    @property
    def bad(self) -> pd.Series:
        """Boolean mask of the refused cells, aligned with `values`."""
        return pd.Series(self.values.index.isin(self.errors.index), index=self.values.index)


# --- columns -------------------------------------------------------------------------------


def header_key(header: str) -> str:
    """A header as compared: half-width, no spaces, no `*` marks, no trailing `(元)`."""
    key = re.sub(r"\s+", "", to_half_width(str(header))).strip("*")
    return re.sub(r"\(元\)$", "", key)


def match_columns(
    table: pd.DataFrame, expected: Sequence[str], required: Collection[str]
) -> tuple[dict[str, str], list[CellError]]:
    """Map each expected header to the table's own spelling; one error names all missing ones."""
    present: dict[str, str] = {}
    errors = []
    for header in table.columns:
        key = header_key(header)
        if key in present:
            errors.append(CellError(1, str(header), str(header), f"与「{present[key]}」是同一列，重复出现"))
        present.setdefault(key, str(header))
    found = {name: present[header_key(name)] for name in expected if header_key(name) in present}
    missing = [name for name in expected if name in required and name not in found]
    if missing:
        names = "、".join(missing)
        errors.append(CellError(1, names, "", f"缺少必需的列：{names}"))
    return found, errors


# --- cell parsers --------------------------------------------------------------------------


def map_distinct(series: pd.Series, convert: Callable[[Any], Any], na_value: Any = None) -> pd.Series:
    """`series.map(convert)` computed once per distinct value (object dtype); NA gives `na_value`."""
    codes, uniques = pd.factorize(series)
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(value) for value in uniques]
    converted[-1] = na_value  # code −1 (NA) picks the last slot
    return pd.Series(converted[codes], index=series.index, dtype=object)


_SERIES_FORMS: dict[Callable[[str], str], Callable[[pd.Series], pd.Series]] = {
    to_half_width: lambda texts: texts.str.normalize("NFKC").str.strip(),
    str.strip: lambda texts: texts.str.strip(),
}


def series_form(normalise: Callable[[str], str], form: Callable[[pd.Series], pd.Series]) -> None:
    """Register `form`, which does to a Series of strings what `normalise` does to each one (the
    same calls per value, looped by pandas instead of by Python)."""
    _SERIES_FORMS[normalise] = form


def normalise_all(values: np.ndarray, normalise: Callable[[str], str]) -> list[str]:
    """`normalise` of each value (a non-string as its `str`), through its Series form when
    registered and every value is a string."""
    form = _SERIES_FORMS.get(normalise)
    if form is not None and len(values) and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return form(pd.Series(values, dtype=object)).tolist()
    return [normalise(v if type(v) is str else str(v)) for v in values]


def _parse(
    series: pd.Series,
    parse_uniques: Callable[[pd.Series], tuple[Any, np.ndarray]],
    *,
    required: bool,
    normalise: Callable[[str], str] = to_half_width,
) -> Parsed:
    """Normalise and parse the distinct values, then spread values and reasons over the rows.

    `parse_uniques` gets the distinct texts (blanks replaced by "0") and returns (values,
    reasons) of the same length, a reason "" meaning good; bad values must already be NA.
    """
    codes, uniques = pd.factorize(series)
    texts = pd.Series([*normalise_all(uniques, normalise), ""], dtype=object)
    codes = np.where(codes < 0, len(texts) - 1, codes)  # NA reads as the blank text at the end
    blank = (texts == "").to_numpy()
    values, reasons = parse_uniques(texts.where(~blank, "0"))
    reasons = np.array(reasons, dtype=object)
    if isinstance(values, np.ndarray):
        values = values.copy()
    reasons[blank] = REQUIRED_REASON if required else ""
    values[blank | (reasons != "")] = None
    if isinstance(values, np.ndarray):
        values = pd.Series(values[codes], index=series.index, dtype=values.dtype)
    else:
        values = pd.Series(values.take(codes), index=series.index)
    bad_codes = np.flatnonzero(reasons != "")
    if len(bad_codes) == 0:
        return Parsed(values, pd.Series([], index=series.index[:0], dtype=object))
    rows = np.isin(codes, bad_codes)
    return Parsed(values, pd.Series(reasons[codes[rows]], index=series.index[rows], dtype=object))


def parse_with(
    series: pd.Series,
    convert: Callable[[str], Any],
    *,
    required: bool = True,
    normalise: Callable[[str], str] = to_half_width,
) -> Parsed:
    """Apply `convert` to each distinct normalised text; a `ValueError` it raises is the reason."""

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, list[str]]:
        values = np.empty(len(texts), dtype=object)
        reasons = [""] * len(texts)
        for position, text in enumerate(texts):
            try:
                values[position] = convert(text)
            except ValueError as error:
                values[position], reasons[position] = None, str(error)
        return values, reasons

    return _parse(series, parse_uniques, required=required, normalise=normalise)


def parse_text(series: pd.Series, *, required: bool = True, max_length: int | None = None) -> Parsed:
    """Free text, surrounding white space removed (full-width punctuation kept as typed)."""

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        values = texts.to_numpy(dtype=object, copy=True)
        reasons = np.full(len(texts), "", dtype=object)
        if max_length is not None:
            lengths = texts.str.len().to_numpy()
            too_long = lengths > max_length
            reasons[too_long] = [f"最多{max_length}个字，实有{n}个字" for n in lengths[too_long]]
        return values, reasons

    return _parse(series, parse_uniques, required=required, normalise=str.strip)


def parse_dates(series: pd.Series, *, required: bool = True) -> Parsed:
    """Dates as `datetime.date`: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, Excel cells."""

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        parts = texts.str.extract(_DATE)
        month = parts[1].fillna(parts[6])
        day = parts[2].fillna(parts[7])
        stamps = pd.to_datetime(
            pd.DataFrame({"year": parts[0], "month": month, "day": day}).astype(float),
            errors="coerce",
        )
        hour, minute, second = (parts[place].astype(float) for place in (3, 4, 5))
        bad_time = (hour >= 24) | (minute >= 60) | (second >= 60)
        reasons = np.select(
            [parts[0].isna(), stamps.isna(), bad_time],
            ["日期格式无法识别（可写 2024-03-05、2024/3/5、2024年3月5日 或 20240305）", "日期不存在",
             "日期后的时间无效（小时应为0–23，分和秒应为0–59）"],
            "",
        )
        values = np.array([stamp.date() if stamp is not pd.NaT else None for stamp in stamps], dtype=object)
        return values, reasons

    return _parse(series, parse_uniques, required=required)


def parse_times(series: pd.Series, *, required: bool = True) -> Parsed:
    """Times of day as "HH:MM" strings: 9:05, 09:05, 09:05:00, 9时5分, Excel time cells."""

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        parts = texts.str.extract(_TIME).astype(float)
        fraction = texts.where(texts.str.match(_DAY_FRACTION)).astype(float)
        from_fraction = (fraction * 1440).round()
        hours = parts[0].fillna(from_fraction // 60)
        minutes = parts[1].fillna(from_fraction % 60)
        seconds = parts[2].fillna(0)
        valid = (hours < 24) & (minutes < 60) & (seconds < 60)
        reasons = np.where(
            hours.isna(), "时间格式应为 HH:MM（如 09:30）",
            np.where(valid, "", "时间无效（小时应为0–23，分钟应为0–59）"),
        )
        good = reasons == ""
        values = np.full(len(texts), None, dtype=object)
        values[good] = [f"{int(h):02d}:{int(m):02d}" for h, m in zip(hours[good], minutes[good])]
        return values, reasons

    return _parse(series, parse_uniques, required=required)


def time_minutes(times: pd.Series) -> pd.Series:
    """Minutes after midnight of "HH:MM" strings (or `datetime.time`), NA where missing."""
    codes, uniques = pd.factorize(times, use_na_sentinel=False)
    minutes = pd.array([_minutes(value) for value in uniques], dtype="Int64")
    return pd.Series(minutes.take(codes), index=times.index)


def _minutes(value: Any) -> int | None:
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    if isinstance(value, str) and re.match(r"^\d{1,2}:\d{2}", value):
        hours, minutes = value.split(":")[:2]
        return int(hours) * 60 + int(minutes)
    return None


def _numbers(texts: pd.Series) -> pd.Series:
    """Plain decimal numbers, thousands separators and ¥/元 allowed; NaN where not a number."""
    numbers = pd.to_numeric(texts, errors="coerce").astype(float)
    odd = numbers.isna() | ~np.isfinite(numbers)
    if odd.any():
        cleaned = texts[odd].str.replace(r"[,\s]", "", regex=True).str.replace(r"^¥|元$", "", regex=True)
        numbers[odd] = pd.to_numeric(cleaned.where(cleaned.str.match(_NUMBER)), errors="coerce")
    return numbers.where(np.isfinite(numbers))


def parse_fen(
    series: pd.Series, *, required: bool = True, negative_allowed: bool = False
) -> Parsed:
    """Yuan amounts with at most two decimals ("1,234.50", full-width) as integer fen (Int64)."""

    def parse_uniques(texts: pd.Series) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
        yuan = _numbers(texts)
        cents = yuan * 100
        fen = cents.round()
        reasons = np.select(
            [yuan.isna(), yuan.abs() >= _MAX_YUAN, (cents - fen).abs() > 1e-3,
             (fen < 0) & (not negative_allowed)],
            ["应为金额数字（元，如 1234.50）", "金额过大", "金额最多保留两位小数", "金额不能为负数"],
            "",
        )
        values = pd.array(fen.where(reasons == ""), dtype="Int64")
        return values, reasons

    return _parse(series, parse_uniques, required=required)


def parse_integers(series: pd.Series, low: int, high: int, *, required: bool = True) -> Parsed:
    """Whole numbers within [low, high] (Int64); "3.0" from an Excel cell counts as 3."""

    def parse_uniques(texts: pd.Series) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
        number = _numbers(texts)
        good = number.notna() & (number == number.round()) & number.between(low, high)
        reasons = np.where(good, "", f"应为{low}到{high}之间的整数")
        return pd.array(number.where(good), dtype="Int64"), reasons

    return _parse(series, parse_uniques, required=required)


def parse_numbers(series: pd.Series, low: float, high: float, *, required: bool = True) -> Parsed:
    """Decimal numbers within [low, high] (float64, NaN where missing)."""

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        number = _numbers(texts)
        good = number.between(low, high)
        reasons = np.where(number.isna(), "应为数字", np.where(good, "", f"应在{low:g}到{high:g}之间"))
        return number.where(good).to_numpy(dtype=float), reasons

    return _parse(series, parse_uniques, required=required)


def parse_choices(
    series: pd.Series,
    choices: Mapping[str, Any],
    *,
    required: bool = True,
    shown: Sequence[str] | None = None,
) -> Parsed:
    """One of a fixed set of words (synonyms allowed) mapped to its canonical value."""
    lookup = {_choice_key(word): value for word, value in choices.items()}
    listed = "、".join(shown if shown is not None else dict.fromkeys(map(str, choices.values())))

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        keys = texts.map(_choice_key)
        known = keys.isin(list(lookup)).to_numpy()
        values = np.full(len(texts), None, dtype=object)
        values[known] = [lookup[key] for key in keys[known]]
        return values, np.where(known, "", f"应为以下之一：{listed}")

    return _parse(series, parse_uniques, required=required)


def _choice_key(word: str) -> str:
    return re.sub(r"\s+", "", to_half_width(word))


def parse_id_numbers(series: pd.Series, *, today: dt.date, required: bool = True) -> Parsed:
    """Resident ID numbers (SPEC section 3) in upper-case ASCII, checked over distinct values.

    Texts of 17 digits and a digit or X that pass every check (birth date, check character) at
    once in numpy are taken as they are, which is what `normalize_id_number` returns for them;
    the others go through `normalize_id_number`, for its value or its reason.
    """

    def convert(text: str) -> str:
        return normalize_id_number(text, today=today)

    def parse_uniques(texts: pd.Series) -> tuple[np.ndarray, list[str]]:
        values = np.empty(len(texts), dtype=object)
        reasons = [""] * len(texts)
        good = valid_plain_id_numbers(texts, today)
        values[good] = texts.to_numpy(dtype=object)[good]
        for position in np.flatnonzero(~good).tolist():
            try:
                values[position] = convert(texts.iat[position])
            except ValueError as error:
                values[position], reasons[position] = None, str(error)
        return values, reasons

    return _parse(series, parse_uniques, required=required)


_ID_WEIGHTS = np.array([2 ** (17 - place) % 11 for place in range(17)], dtype=np.int64)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def valid_plain_id_numbers(texts: pd.Series, today: dt.date) -> np.ndarray:
    """True for the texts of exactly 17 ASCII digits and a digit or X whose birth date exists, is
    not after `today` nor before 1880, and whose check character is right (GB 11643-1999: the
    same sum as `stdnum.cn.ric.calc_check_digit`). False says nothing: check those one by one."""
    plain = texts.str.fullmatch(r"[0-9]{17}[0-9X]", case=True).fillna(False).to_numpy(dtype=bool)
    good = np.zeros(len(texts), dtype=bool)
    if not plain.any():
        return good
    codes = np.frombuffer("".join(texts[plain].tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    digits = codes[:, :17].astype(np.int64) - ord("0")
    check = (1 - digits @ _ID_WEIGHTS) % 11
    given = np.where(codes[:, 17] == ord("X"), 10, codes[:, 17].astype(np.int64) - ord("0"))
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    longest = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    born = year * 10_000 + month * 100 + day
    today_key = today.year * 10_000 + today.month * 100 + today.day
    good[plain] = (check == given) & month_ok & (day >= 1) & (day <= longest) & (year >= 1880) & (born <= today_key)
    return good


def parse_mobiles(series: pd.Series, *, required: bool = True) -> Parsed:
    """Mainland mobile numbers as 11 digits."""
    return parse_with(series, normalize_mobile, required=required)


# --- collecting errors ---------------------------------------------------------------------

Reason = str | pd.Series | Callable[[pd.Index], pd.Series]
"""A reason text, per-row texts, or a function building the texts of the given rows (called on
those rows only, so that no text is built for the good ones)."""


def reasons_where(mask: pd.Series, reason: Reason) -> pd.Series:
    """The reasons of the rows where `mask` is true (NA counts as false), indexed by row."""
    mask = mask.fillna(False).astype(bool)
    rows = mask.index[mask.to_numpy()]
    if isinstance(reason, str):
        return pd.Series(reason, index=rows, dtype=object)
    if not len(rows):
        return pd.Series([], index=rows, dtype=object)
    texts = reason.loc[rows] if isinstance(reason, pd.Series) else reason(rows)
    return texts.astype(object)


class ErrorCollector:
    """The refused cells of one table, keeping the first reason given for each cell."""

    def __init__(self, table: pd.DataFrame):
        self._table = table
        self._reasons: dict[str, list[pd.Series]] = defaultdict(list)

    def add(self, column: str, reasons: pd.Series) -> None:
        """Record reasons (indexed by row) against one column."""
        if len(reasons):
            self._reasons[column].append(reasons)

    def add_where(self, column: str, mask: pd.Series, reason: Reason) -> None:
        """Record `reason` against one column for the rows where `mask` is true."""
        self.add(column, reasons_where(mask, reason))

    def add_parsed(self, column: str, parsed: Parsed) -> pd.Series:
        """Record a parser's reasons and hand back its values."""
        self.add(column, parsed.errors)
        return parsed.values

    def bad(self, column: str) -> pd.Series:
        """Mask of the rows already refused in this column."""
        rows = [reasons.index for reasons in self._reasons.get(column, [])]
        refused = self._table.index.isin(rows[0].append(rows[1:])) if rows else False
        return pd.Series(refused, index=self._table.index)

    def __bool__(self) -> bool:
        return any(self._reasons.values())

    def count(self) -> int:
        """How many cells are refused."""
        return sum(len(reasons) for reasons in self._first_reasons().values())

    def errors(self, limit: int | None = None) -> list[CellError]:
        """The refused cells by row, then by the column's place in the table; the first `limit`
        only when given (the others are never turned into objects)."""
        order = {str(column): position for position, column in enumerate(self._table.columns)}
        columns = self._first_reasons()
        rows = np.concatenate([reasons.index.to_numpy(dtype=np.int64) for reasons in columns.values()] or [[]])
        places = np.concatenate([np.full(len(reasons), order.get(column, len(order)))
                                 for column, reasons in columns.items()] or [[]])
        chosen = np.lexsort((places, rows))[:limit]
        errors = []
        for column, reasons, taken in self._split(columns, chosen):
            reasons = reasons.iloc[taken]
            if column in self._table.columns:
                raw = self._table[column].reindex(reasons.index).fillna("")
            else:
                raw = pd.Series("", index=reasons.index)
            errors.extend(CellError(int(row), column, str(value), str(reason))
                          for row, value, reason in zip(reasons.index, raw, reasons))
        return sorted(errors, key=lambda error: (error.row, order.get(error.column, len(order))))

    @staticmethod
    def _split(columns: dict[str, pd.Series], chosen: np.ndarray):
        """(column, its reasons, the positions among them) of the chosen overall positions."""
        start = 0
        for column, reasons in columns.items():
            taken = chosen[(chosen >= start) & (chosen < start + len(reasons))] - start
            if len(taken):
                yield column, reasons, np.sort(taken)
            start += len(reasons)

    def _first_reasons(self) -> dict[str, pd.Series]:
        """Per column, the first reason of each refused cell."""
        first = {}
        for column, parts in self._reasons.items():
            reasons = pd.concat(parts) if len(parts) > 1 else parts[0]
            first[column] = reasons[~reasons.index.duplicated(keep="first")]
        return first


