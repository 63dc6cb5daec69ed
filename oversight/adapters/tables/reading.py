"""Reading uploaded tables (.xlsx, .csv) into DataFrames of strings, a piece at a time.

`read_table` gives a DataFrame of strings indexed by the row number the user sees in Excel
(header row 1, first data row 2); `iter_table` gives the same rows in pieces. A file beyond its
`ReadLimits` is refused (`UnreadableFile`, in Chinese) before it can fill memory: an .xlsx is
checked by `extent.check_workbook` before calamine reads it, a CSV as it is read.
"""
from __future__ import annotations

import codecs
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, NamedTuple

import pandas as pd
from pandas.api.types import infer_dtype

from oversight.adapters.tables.cells import EXCEL_ROW, map_distinct
from oversight.adapters.tables.extent import CORRUPT, WorkbookRefused, check_workbook, column_letter
from oversight.domain.identifiers import to_half_width

CHUNK_ROWS = 50_000
SPARE_COLUMNS = 8
"""Columns a sheet may use past its template's: a 序号 column, notes, a header away from A."""
SPARE_ROWS = 20
"""Rows a sheet may use past its data-row limit: title lines and blank rows above the header."""
IMPORT_ADDRESS_SPACE_BOUND = 1536 << 20
"""What one import's process needs at most under the default limits, whatever the file (its
address space, interpreter and libraries included: the widest file the limits let through peaks
at about 1.25 GB, `bench/upload_limits.py`); the hostile-upload tests run imports within it."""

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BLANK_LINES = re.compile(rb"(?:[ \t]*\r?\n)*")


class UnreadableFile(ValueError):
    """The upload cannot be read as a table at all; `str(error)` is the reason in Chinese."""


@dataclass(frozen=True)
class ReadLimits:
    """How large an upload may be (app config `UPLOAD_MAX_ROWS`, `UPLOAD_MAX_UNCOMPRESSED_BYTES`).

    max_rows: data rows; no cell past row `last_row` either.
    last_column: the last column a sheet may use (its template's columns and SPARE_COLUMNS).
    max_uncompressed_bytes: a CSV's size, or an .xlsx's parts once unpacked (each shared
        string counted once per cell that uses it).
    """

    max_rows: int = 100_000
    last_column: int = 32
    max_uncompressed_bytes: int = 200 << 20

    @classmethod
    def from_config(cls, config: Mapping, template_columns: int) -> ReadLimits:
        """The app's limits for a sheet of `template_columns` columns."""
        return cls(config["UPLOAD_MAX_ROWS"], template_columns + SPARE_COLUMNS,
                   config["UPLOAD_MAX_UNCOMPRESSED_BYTES"])

    @property
    def last_row(self) -> int:
        return self.max_rows + SPARE_ROWS

    def too_many_rows(self) -> UnreadableFile:
        return UnreadableFile(f"文件超过 {self.max_rows:,} 行数据的上限；请把数据分成几个文件后重新上传")

    def too_large(self) -> UnreadableFile:
        return UnreadableFile(f"文件超过 {self.max_uncompressed_bytes // (1 << 20):,} MB 的上限；"
                              "请删除多余的内容，或把数据分成几个文件后重新上传")


DEFAULT_LIMITS = ReadLimits()


# --- reading -------------------------------------------------------------------------------


def read_table(data: bytes, filename: str, limits: ReadLimits = DEFAULT_LIMITS) -> pd.DataFrame:
    """The first sheet (or the CSV) as strings: headers cleaned, blank rows dropped, Excel rows kept.

    The index, named `excel_row`, is the row number the user sees in Excel. Cells are `str`
    ("" when empty); Excel date cells become `2024-03-05`, time cells `10:30:00`. Columns
    without a header are left out. For files of several hundred thousand rows use `iter_table`.
    """
    chunks = list(iter_table(data, filename, limits=limits))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def iter_table(data: bytes, filename: str, chunk_rows: int = CHUNK_ROWS,
               limits: ReadLimits = DEFAULT_LIMITS) -> TableChunks:
    """`read_table` in consecutive pieces of at most `chunk_rows` rows, at least one (maybe empty).

    Memory stays at one piece for CSV; an .xlsx sheet is parsed whole by calamine first.
    The file is opened (and `UnreadableFile` raised) at once, the rows are read while iterating.
    """
    return TableChunks(open_grid(data, filename, chunk_rows, limits), limits)


class TableChunks:
    """The pieces of one table, iterable once; `rows_hint` bounds the number of data rows.

    Reading past `limits.max_rows` data rows raises `UnreadableFile`.
    """

    def __init__(self, grid: Grid, limits: ReadLimits = DEFAULT_LIMITS):
        self._grid, self._limits = grid, limits
        self.rows_hint = min(max(grid.rows - grid.header_row, 0), limits.max_rows)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        grid = self._grid
        keep = [position for position, name in enumerate(grid.headers) if name]
        names = [grid.headers[position] for position in keep]
        rows = 0
        for chunk in grid.chunks:
            body = chunk.loc[chunk.index > grid.header_row, keep] if chunk.index[0] <= grid.header_row else chunk[keep]
            text = rows_with_text(body)
            if not text.all():
                body = body[text]
            body.columns = names
            body.index.name = EXCEL_ROW
            rows += len(body)
            if rows > self._limits.max_rows:
                raise self._limits.too_many_rows()
            yield body


class Grid(NamedTuple):
    """A sheet as raw text: header row and cells, the row chunks (header chunk included), and
    an upper bound of its rows."""

    kind: str
    header_row: int
    headers: list[str]
    chunks: Iterator[pd.DataFrame]
    rows: int


def open_grid(data: bytes, filename: str, chunk_rows: int = CHUNK_ROWS, limits: ReadLimits = DEFAULT_LIMITS) -> Grid:
    """Find the header (the first row with text) and hand back every chunk, columns by position."""
    kind = _file_kind(data, filename)
    if len(data) > limits.max_uncompressed_bytes:
        raise limits.too_large()
    if kind == "xlsx":
        try:
            check_workbook(data, limits)
        except WorkbookRefused as error:
            raise UnreadableFile(str(error)) from None
        rows, chunks = _xlsx_chunks(data, chunk_rows)
    else:
        rows, chunks = data.count(b"\n") + 1, _csv_chunks(data, chunk_rows, limits)
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        filled = chunk.index[rows_with_text(chunk)]
        if len(filled):
            row = int(filled[0])
            return Grid(kind, row, _header_names(chunk.loc[row]), itertools.chain(seen, chunks), rows)
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
        raise UnreadableFile(CORRUPT)
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
        raise UnreadableFile(CORRUPT) from None

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


def _csv_chunks(data: bytes, chunk_rows: int, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    encoding = _csv_encoding(data)
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    skipped = 0
    if encoding != "utf-16":
        # pandas cannot count columns past leading empty lines: skip them, keep the numbering.
        blank = _BLANK_LINES.match(data, start).group()
        skipped, start = blank.count(b"\n"), start + len(blank)
    end = data.find(b"\n", start)
    first_line = data[start : end if end >= 0 else len(data)]
    header = first_line.decode(encoding, errors="replace")
    separator = max((",", "\t", ";"), key=header.count)
    if header.count(separator) >= limits.last_column:
        raise UnreadableFile(f"文件的表头有 {header.count(separator) + 1:,} 列，超出了可读取的 {limits.last_column} 列"
                             f"（到 {column_letter(limits.last_column - 1)} 列）；请删除多余的列后重新上传")
    try:
        reader = pd.read_csv(
            io.BytesIO(data), header=None, dtype=object, encoding=encoding, sep=separator, skiprows=skipped,
            keep_default_na=False, na_filter=False, skip_blank_lines=False, chunksize=chunk_rows,
        )
        for chunk in reader:
            chunk.index = chunk.index + skipped + 1
            if len(chunk) and chunk.index[-1] > limits.last_row:
                raise limits.too_many_rows()
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
    if b"\x00" in data:
        raise UnreadableFile("文件中含有空字符（NUL），不是文本格式的 CSV；请在 Excel 中另存为“CSV UTF-8”后重新上传")
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


def rows_with_text(grid: pd.DataFrame) -> pd.Series:
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
