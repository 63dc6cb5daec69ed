"""The marked error copy: the user's table with the refused cells filled red and their reasons."""
from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from oversight.adapters.tables.cells import CellError, header_key
from oversight.adapters.tables.extent import column_letter
from oversight.adapters.tables.formulas import neutralize_cell, neutralize_texts
from oversight.adapters.tables.reading import DEFAULT_LIMITS, Grid, ReadLimits, open_grid

REASON_HEADER = "错误原因"
HIGHLIGHT_RGB = "FFFFC7CE"


class Marks(NamedTuple):
    """Where a table's errors go: the red cells by row, the reason text by row, and the reason
    column (after the last header) with its title."""

    header_row: int
    reason_column: int
    title: str
    cells: dict[int, set[int]]
    texts: dict[int, str]


def error_workbook(
    data: bytes, filename: str, errors: Sequence[CellError], *, unlisted: int = 0,
    max_styled_cells: int = 100_000, limits: ReadLimits = DEFAULT_LIMITS,
) -> bytes:
    """The user's file as .xlsx with the bad cells filled red and a last column "错误原因".

    `unlisted` errors beyond `errors` are counted in the reason column's title. An .xlsx up to
    `max_styled_cells` cells is edited in place with openpyxl (its formatting kept, its
    formulas and links made inert text, about 2 s at the limit); a CSV or a larger workbook is
    copied as text, its first sheet only (`write_marked_copy`).
    """
    grid = open_grid(data, filename, limits=limits)
    marks = cell_marks(grid, errors, unlisted)
    if grid.kind == "xlsx" and grid.rows * len(grid.headers) <= max_styled_cells:
        return _mark_workbook(data, marks)
    return write_marked_copy(grid.chunks, marks)


def cell_marks(grid: Grid, errors: Sequence[CellError], unlisted: int = 0) -> Marks:
    """The red cells and reason texts of `errors` in the table read as `grid`."""
    positions = {header_key(name): position for position, name in enumerate(grid.headers) if name}
    cells: dict[int, set[int]] = defaultdict(set)
    reasons: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        position = positions.get(header_key(error.column)) if error.column else None
        if position is None:
            reasons[error.row].append(error.reason)
        else:
            cells[error.row].add(position)
            reasons[error.row].append(f"{error.column}：{error.reason}")
    texts = {row: "；".join(dict.fromkeys(parts)) for row, parts in reasons.items()}
    notes = [f"表头：{texts.pop(grid.header_row)}"] if grid.header_row in texts else []
    if unlisted:
        notes.append(unlisted_note(unlisted))
    title = REASON_HEADER + (f"（{'；'.join(notes)}）" if notes else "")
    return Marks(grid.header_row, len(grid.headers), title, cells, texts)


def unlisted_note(count: int) -> str:
    """What the page and the marked copy say of the errors past the listed ones."""
    return f"另有 {count:,} 处错误未列出，请改正以上错误后重新上传再查看"


def _mark_workbook(data: bytes, marks: Marks) -> bytes:
    from openpyxl import load_workbook
    from openpyxl.styles import Font, PatternFill

    book = load_workbook(io.BytesIO(data))
    book._external_links = []
    sheet = book.worksheets[0]
    _make_inert(sheet)
    fill = PatternFill(fill_type="solid", start_color=HIGHLIGHT_RGB, end_color=HIGHLIGHT_RGB)
    for row, positions in marks.cells.items():
        for position in positions:
            sheet.cell(row=row, column=position + 1).fill = fill
    title_cell = sheet.cell(row=marks.header_row, column=marks.reason_column + 1, value=neutralize_cell(marks.title))
    title_cell.font = Font(bold=True)
    for row, text in marks.texts.items():
        sheet.cell(row=row, column=marks.reason_column + 1, value=neutralize_cell(text))
    sheet.column_dimensions[column_letter(marks.reason_column)].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _make_inert(sheet) -> None:
    """Formulas become their text with a leading `'` and links are dropped, as in the copy: the
    supervisor who opens the file must not run what the uploader wrote (=HYPERLINK, DDE)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.hyperlink is not None:
                cell.hyperlink = None
            value = cell.value
            if cell.data_type == "f":
                text = value if isinstance(value, str) else getattr(value, "text", None) or ""
                cell.value = neutralize_cell(text if text.startswith("=") else "=" + text)
            elif isinstance(value, str):
                cell.value = neutralize_cell(value)


def write_marked_copy(chunks: Iterable[pd.DataFrame], marks: Marks) -> bytes:
    """A new one-sheet workbook of the cells as text, written as XML a column at a time.

    Kept rather than XlsxWriter's `constant_memory` mode, which writes the same copy cell by
    cell, because it is clearly faster: on 100,000 rows × 22 columns of distinct text with
    20,000 errors, 6.5 s against 21.5 s, for a peak of 494 MB against 392 MB
    (`bench/error_copy.py`, each in its own process).
    """
    bad_rows: dict[int, list[int]] = defaultdict(list)
    for row, positions in marks.cells.items():
        for position in positions:
            bad_rows[position].append(row)
    header_row, reason_column = marks.header_row, marks.reason_column
    notes = {**marks.texts, header_row: marks.title}
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
        xml = pd.Series(np.where(filled | bad, '<c r="' + column_letter(position) + numbers + '"' + style, ""),
                        index=chunk.index, dtype=object)
        text = _xml_text(neutralize_texts(values[filled]))
        xml[filled] = xml[filled] + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
        xml[bad & ~filled] = xml[bad & ~filled] + "/>"
        parts[:, place] = xml.to_numpy()
    return "".join(parts.ravel())


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
