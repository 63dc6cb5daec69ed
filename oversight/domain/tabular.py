"""Uploaded tables (.xlsx, .csv): reading, vectorised cell parsing, error reports, safe export.

`read_table` gives a DataFrame of strings indexed by the row number the user sees in Excel
(header row 1, first data row 2). The `parse_*` functions take one column and return a
`Parsed`: the typed values (missing or bad cells as NA) and the Chinese reasons of the bad
cells only, indexed by their rows. Row-by-row Python work is done over the distinct values
of a column, never over the rows.
"""
from __future__ import annotations

import codecs
import datetime as dt
import io
import itertools
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from oversight.domain.identifiers import normalize_id_number, normalize_mobile, to_half_width

EXCEL_ROW = "excel_row"
REASON_HEADER = "错误原因"
HIGHLIGHT_RGB = "FFFFC7CE"
REQUIRED_REASON = "不能为空"
CHUNK_ROWS = 50_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DATE = re.compile(
    r"^(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|(\d{2})(\d{2}))$"
)
_TIME = re.compile(
    r"^(?:\d{4}-\d{1,2}-\d{1,2}[ T])?(\d{1,2})\s*[:时点]\s*(\d{1,2})\s*分?"
    r"(?::(\d{1,2})(?:\.\d+)?)?$"
)
_DAY_FRACTION = re.compile(r"^0?\.\d+$|^0$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_MAX_YUAN = 1e10
_BLANK_LINES = re.compile(rb"(?:[ \t]*\r?\n)*")


class UnreadableFile(ValueError):
    """The upload cannot be read as a table at all; `str(error)` is the reason in Chinese."""


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


# --- reading -------------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """The first sheet (or the CSV) as strings: headers cleaned, blank rows dropped, Excel rows kept.

    The index, named `excel_row`, is the row number the user sees in Excel. Cells are `str`
    ("" when empty); Excel date cells become `2024-03-05`, time cells `10:30:00`. Columns
    without a header are left out. For files of several hundred thousand rows use `iter_table`.
    """
    chunks = list(iter_table(data, filename))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def iter_table(data: bytes, filename: str, chunk_rows: int = CHUNK_ROWS) -> TableChunks:
    """`read_table` in consecutive pieces of at most `chunk_rows` rows, at least one (maybe empty).

    Memory stays at one piece for CSV; an .xlsx sheet is parsed whole by calamine first.
    The file is opened (and `UnreadableFile` raised) at once, the rows are read while iterating.
    """
    return TableChunks(_open_grid(data, filename, chunk_rows))


class TableChunks:
    """The pieces of one table, iterable once; `rows_hint` bounds the number of data rows."""

    def __init__(self, grid: _Grid):
        self._grid = grid
        self.rows_hint = max(grid.rows - grid.header_row, 0)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        grid = self._grid
        keep = [position for position, name in enumerate(grid.headers) if name]
        names = [grid.headers[position] for position in keep]
        for chunk in grid.chunks:
            body = chunk.loc[chunk.index > grid.header_row, keep] if chunk.index[0] <= grid.header_row else chunk[keep]
            text = _rows_with_text(body)
            if not text.all():
                body = body[text]
            body.columns = names
            body.index.name = EXCEL_ROW
            yield body


class _Grid(NamedTuple):
    """A sheet as raw text: header row and cells, the row chunks (header chunk included), and
    an upper bound of its rows."""

    kind: str
    header_row: int
    headers: list[str]
    chunks: Iterator[pd.DataFrame]
    rows: int


def _open_grid(data: bytes, filename: str, chunk_rows: int = CHUNK_ROWS) -> _Grid:
    """Find the header (the first row with text) and hand back every chunk, columns by position."""
    kind = _file_kind(data, filename)
    if kind == "xlsx":
        rows, chunks = _xlsx_chunks(data, chunk_rows)
    else:
        rows, chunks = data.count(b"\n") + 1, _csv_chunks(data, chunk_rows)
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        filled = chunk.index[_rows_with_text(chunk)]
        if len(filled):
            row = int(filled[0])
            return _Grid(kind, row, _header_names(chunk.loc[row]), itertools.chain(seen, chunks), rows)
    raise UnreadableFile("文件中没有内容")


def _header_names(cells: pd.Series) -> list[str]:
    """Header cells cleaned; a repeated name makes the table ambiguous and is refused."""
    headers = [to_half_width(cell) for cell in cells]
    named = [name for name in headers if name]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise UnreadableFile(f"表头中有重复的列名：{'、'.join(repeated)}")
    return headers


def _file_kind(data: bytes, filename: str) -> str:
    if not data:
        raise UnreadableFile("文件是空的")
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        raise UnreadableFile("无法读取旧版 .xls 文件或加密的工作簿，请在 Excel 中另存为 .xlsx 后上传")
    if suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile("文件已损坏或不是有效的 Excel（.xlsx）文件")
    if suffix in (".csv", ".txt"):
        return "csv"
    raise UnreadableFile(f"不支持的文件类型（{suffix or '无扩展名'}），请上传 .xlsx 或 .csv 文件")


def _xlsx_chunks(data: bytes, chunk_rows: int) -> tuple[int, Iterator[pd.DataFrame]]:
    # python-calamine directly rather than pandas.read_excel(engine="calamine"): same reader,
    # but pandas converts every cell in Python and is 2-3 times slower on 100,000 rows.
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not book.sheet_names:
            raise UnreadableFile("工作簿中没有工作表")
        sheet = book.get_sheet_by_index(0)
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile("文件已损坏或不是有效的 Excel（.xlsx）文件") from None

    def chunks() -> Iterator[pd.DataFrame]:
        # iter_rows starts at row 1 but at the first used column: pad back to column A.
        first_column = sheet.start[1] if sheet.start else 0
        rows, first_row = sheet.iter_rows(), 1
        while batch := list(itertools.islice(rows, chunk_rows)):
            grid = pd.DataFrame(batch, dtype=object)
            del batch
            grid.columns = range(first_column, first_column + grid.shape[1])
            grid = grid.reindex(columns=range(first_column + grid.shape[1]), fill_value="")
            for column in grid.columns:
                grid[column] = _cells_as_text(grid[column])
            grid.index = pd.RangeIndex(first_row, first_row + len(grid))
            first_row += len(grid)
            yield grid

    return (sheet.end[0] + 1 if sheet.end else 0), chunks()


def _cells_as_text(column: pd.Series) -> pd.Series:
    if infer_dtype(column, skipna=True) in ("string", "empty"):
        return column.fillna("")
    return map_distinct(column, _cell_text, na_value="")


def _cell_text(value: Any) -> str:
    """How a typed Excel cell reads as text: dates ISO, integral numbers without `.0`."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"
    return str(value)


def _csv_chunks(data: bytes, chunk_rows: int) -> Iterator[pd.DataFrame]:
    encoding = _csv_encoding(data)
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    skipped = 0
    if encoding != "utf-16":
        # pandas cannot count columns past leading empty lines: skip them, keep the numbering.
        blank = _BLANK_LINES.match(data, start).group()
        skipped, start = blank.count(b"\n"), start + len(blank)
    end = data.find(b"\n", start)
    first_line = data[start : end if end >= 0 else len(data)]
    separator = max((",", "\t", ";"), key=first_line.decode(encoding, errors="replace").count)
    try:
        reader = pd.read_csv(
            io.BytesIO(data), header=None, dtype=object, encoding=encoding, sep=separator, skiprows=skipped,
            keep_default_na=False, na_filter=False, skip_blank_lines=False, chunksize=chunk_rows,
        )
        for chunk in reader:
            chunk.index = chunk.index + skipped + 1
            yield chunk
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise UnreadableFile(f"CSV 文件格式有误，无法读取（{_csv_problem(error)}）") from None


def _csv_problem(error: Exception) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found:
        expected, line, seen = found.groups()
        return f"第{line}行有{seen}列，表头只有{expected}列"
    return "编码或引号不正确"


def _csv_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in data[:4096]:
        raise UnreadableFile("文件不是文本格式的 CSV")
    for encoding in ("utf-8", "gb18030"):
        if _decodes(data, encoding):
            return encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile("无法识别 CSV 文件的字符编码，请另存为 UTF-8 或 GBK 编码")
    return best.encoding


def _decodes(data: bytes, encoding: str, piece: int = 1 << 20) -> bool:
    """Whether `data` is valid in `encoding`, checked a megabyte at a time to spare memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), piece):
            decoder.decode(view[start : start + piece])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _rows_with_text(grid: pd.DataFrame) -> pd.Series:
    """Rows holding at least one cell that is not empty or white space."""
    undecided = pd.Series(True, index=grid.index)
    for column in grid.columns:
        cells = grid.loc[undecided, column]
        filled = cells[cells != ""]
        if len(filled):
            undecided[filled.index[~filled.str.isspace()]] = False
        if not undecided.any():
            break
    return ~undecided


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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


def half_width(series: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation to ASCII, surrounding white space removed."""
    return map_distinct(series, lambda value: to_half_width(str(value)), na_value="")


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
    texts = pd.Series([normalise(v if type(v) is str else str(v)) for v in uniques] + [""], dtype=object)
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
        month = parts[1].fillna(parts[3])
        day = parts[2].fillna(parts[4])
        stamps = pd.to_datetime(
            pd.DataFrame({"year": parts[0], "month": month, "day": day}).astype(float),
            errors="coerce",
        )
        reasons = np.where(
            parts[0].isna(), "日期格式无法识别（可写 2024-03-05、2024/3/5、2024年3月5日 或 20240305）",
            np.where(stamps.isna(), "日期不存在", ""),
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
    """Resident ID numbers (SPEC section 3) in upper-case ASCII, checked over distinct values."""
    return parse_with(series, lambda text: normalize_id_number(text, today=today), required=required)


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

    def errors(self) -> list[CellError]:
        """All refused cells, by row, then by the column's place in the table."""
        order = {str(column): position for position, column in enumerate(self._table.columns)}
        found: list[tuple[int, int, CellError]] = []
        for column, parts in self._reasons.items():
            reasons = pd.concat(parts)
            reasons = reasons[~reasons.index.duplicated(keep="first")]
            if column in self._table.columns:
                raw = self._table[column].reindex(reasons.index).fillna("")
            else:
                raw = pd.Series("", index=reasons.index)
            place = order.get(column, len(order))
            found.extend(
                (int(row), place, CellError(int(row), column, str(value), str(reason)))
                for row, value, reason in zip(reasons.index, raw, reasons)
            )
        found.sort(key=lambda item: item[:2])
        return [error for *_, error in found]


# --- exports -------------------------------------------------------------------------------


def neutralize_cell(value: Any) -> Any:
    """Prefix `'` to text a spreadsheet would run as a formula (=, +, -, @, tab, CR).

    A plain signed number such as "-500" is left alone: it cannot run as a formula.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every formula-like text cell neutralised (see `neutralize_cell`)."""
    frame = frame.copy()
    for column in frame.columns:
        cells = frame[column]
        if (cells.dtype == object or pd.api.types.is_string_dtype(cells.dtype)) and cells.notna().any():
            frame[column] = _neutralized(cells)
    return frame


def error_workbook(
    data: bytes, filename: str, errors: Sequence[CellError], *, max_styled_cells: int = 100_000
) -> bytes:
    """The user's file as .xlsx with the bad cells filled red and a last column "错误原因".

    An .xlsx up to `max_styled_cells` cells is edited in place with openpyxl (its formatting
    kept, about 2 s at the limit); a CSV or a larger workbook is copied as text, its first sheet
    only (100,000 rows × 22 columns in about 2 s, where openpyxl needs minutes and gigabytes).
    """
    grid = _open_grid(data, filename)
    header_row = grid.header_row
    positions = {header_key(name): position for position, name in enumerate(grid.headers) if name}
    marks: dict[int, set[int]] = defaultdict(set)
    reasons: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        position = positions.get(header_key(error.column)) if error.column else None
        if position is None:
            reasons[error.row].append(error.reason)
        else:
            marks[error.row].add(position)
            reasons[error.row].append(f"{error.column}：{error.reason}")
    texts = {row: "；".join(dict.fromkeys(parts)) for row, parts in reasons.items()}
    title = REASON_HEADER + (f"（表头：{texts.pop(header_row)}）" if header_row in texts else "")
    reason_column = len(grid.headers)
    if grid.kind == "xlsx" and grid.rows * len(grid.headers) <= max_styled_cells:
        return _mark_workbook(data, header_row, reason_column, title, marks, texts)
    return _mark_copy(grid.chunks, header_row, reason_column, title, marks, texts)


def _mark_workbook(
    data: bytes, header_row: int, reason_column: int, title: str,
    marks: Mapping[int, Iterable[int]], texts: Mapping[int, str],
) -> bytes:
    from openpyxl import load_workbook
    from openpyxl.styles import Font, PatternFill

    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    fill = PatternFill(fill_type="solid", start_color=HIGHLIGHT_RGB, end_color=HIGHLIGHT_RGB)
    for row, positions in marks.items():
        for position in positions:
            sheet.cell(row=row, column=position + 1).fill = fill
    title_cell = sheet.cell(row=header_row, column=reason_column + 1, value=neutralize_cell(title))
    title_cell.font = Font(bold=True)
    for row, text in texts.items():
        sheet.cell(row=row, column=reason_column + 1, value=neutralize_cell(text))
    sheet.column_dimensions[_column_letter(reason_column)].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _mark_copy(
    chunks: Iterable[pd.DataFrame], header_row: int, reason_column: int, title: str,
    marks: Mapping[int, Iterable[int]], texts: Mapping[int, str],
) -> bytes:
    """A new one-sheet workbook of the cells as text, written as XML a column at a time.

    XlsxWriter spends about 5 µs a cell, which makes a 100,000-row report take half a minute.
    """
    bad_rows: dict[int, list[int]] = defaultdict(list)
    for row, positions in marks.items():
        for position in positions:
            bad_rows[position].append(row)
    notes = {**texts, header_row: title}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, xml in _PACKAGE.items():
            package.writestr(name, xml)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            column = reason_column + 1
            sheet.write(f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><cols><col min="{column}" max="{column}" '
                        f'width="60" customWidth="1"/></cols><sheetData>'.encode())
            last_row = 0
            for chunk in chunks:
                for start in range(0, len(chunk), _XML_ROWS):
                    piece = chunk.iloc[start : start + _XML_ROWS]
                    sheet.write(_rows_xml(piece, reason_column, header_row, bad_rows, notes).encode())
                last_row = max(last_row, int(chunk.index.max()) if len(chunk) else 0)
            after = pd.DataFrame(index=pd.Index(sorted(row for row in notes if row > last_row)), columns=[])
            sheet.write(_rows_xml(after, reason_column, header_row, bad_rows, notes).encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _rows_xml(
    chunk: pd.DataFrame, reason_column: int, header_row: int, bad_rows: Mapping[int, list[int]],
    notes: Mapping[int, str],
) -> str:
    """`<row>` elements of a chunk: inline-string cells, style 1 on bad cells, notes at the end."""
    if not len(chunk):
        return ""
    numbers = pd.Series(chunk.index.astype(str), index=chunk.index)
    columns = [(position, chunk[label]) for position, label in enumerate(chunk.columns)]
    noted = chunk.index.isin(list(notes))
    columns.append((reason_column, pd.Series(chunk.index[noted].map(notes), index=chunk.index[noted])
                    .reindex(chunk.index, fill_value="")))
    # One join over a row-major grid of pieces: adding column strings row by row is quadratic.
    parts = np.full((len(chunk), len(columns) + 2), "", dtype=object)
    parts[:, 0] = ('<row r="' + numbers + '">').to_numpy()
    parts[:, -1] = "</row>"
    for place, (position, values) in enumerate(columns, start=1):
        bad = chunk.index.isin(bad_rows.get(position, ()))
        filled = (values != "").to_numpy()
        if not (filled | bad).any():
            continue
        style = np.where(bad, ' s="1"', "")
        if position == reason_column:
            style = np.where(chunk.index == header_row, ' s="2"', "")
        xml = pd.Series(np.where(filled | bad, '<c r="' + _column_letter(position) + numbers + '"' + style, ""),
                        index=chunk.index, dtype=object)
        text = _xml_text(_neutralized(values[filled]))
        xml[filled] = xml[filled] + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
        xml[bad & ~filled] = xml[bad & ~filled] + "/>"
        parts[:, place] = xml.to_numpy()
    return "".join(parts.ravel())


def _neutralized(texts: pd.Series) -> pd.Series:
    """`neutralize_cell` over a column of strings, vectorised."""
    risky = texts.str[:1].isin(_FORMULA_START)
    if risky.any():
        risky[risky] = ~texts[risky].str.fullmatch(_PLAIN_NUMBER, na=False)
    return texts.where(~risky, "'" + texts[risky]) if risky.any() else texts


def _xml_text(texts: pd.Series) -> pd.Series:
    """Strings escaped for XML element text; characters XML cannot hold are dropped."""
    special = texts.str.contains(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]", regex=True, na=False)
    if not special.any():
        return texts
    escaped = texts[special].str.replace(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", regex=True).map(
        lambda text: text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return texts.where(~special, escaped)


_XML_ROWS = 10_000
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = {
    "[Content_Types].xml": (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_XML_HEAD}<Relationships xmlns="{_REL_NS}"><Relationship Id="rId1" '
        f'Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML_HEAD}<Relationships xmlns="{_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
        '<fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
        '<font><b/><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        f'<fill><patternFill patternType="solid"><fgColor rgb="{HIGHLIGHT_RGB}"/><bgColor indexed="64"/>'
        '</patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}
