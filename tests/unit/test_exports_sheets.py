"""Streaming CSV and .xlsx tables of the exports: formula injection made inert, Excel's limits kept."""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from oversight.exports import sheets
from oversight.exports.ocds import merge_patch

FORMULAS = ['=HYPERLINK("http://evil.example/","点我")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]


def _csv(rows, headers=("文本", "数")) -> tuple[bytes, list[list[str]]]:
    out = io.BytesIO()
    table = sheets.CsvTable(out, headers)
    for row in rows:
        table.write(row)
    table.close()
    data = out.getvalue()
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_and_chinese_headers():
    data, parsed = _csv([["张三", 3]])
    assert data.startswith(codecs.BOM_UTF8)
    assert parsed == [["文本", "数"], ["张三", "3"]]


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_cell_that_looks_like_a_formula_is_prefixed_with_a_quote(text):
    _, parsed = _csv([[text, 1]])
    assert parsed[1][0] == "'" + text


def test_csv_keeps_plain_signed_numbers_dates_and_booleans_readable():
    _, parsed = _csv([["-500", date(2025, 3, 5)], [True, datetime(2025, 3, 5, 8, 30, 1)], [None, Decimal("12.50")]])
    assert parsed[1:] == [["-500", "2025-03-05"], ["是", "2025-03-05 08:30:01"], ["", "12.50"]]


def _xlsx(tmp_path, rows, headers=("文本", "数")):
    path = tmp_path / "t.xlsx"
    table = sheets.XlsxTable(str(path), "记录", headers)
    for row in rows:
        table.write(row)
    table.close()
    return load_workbook(path)


@pytest.mark.parametrize("text", FORMULAS)
def test_xlsx_cell_that_looks_like_a_formula_is_stored_as_inert_text(tmp_path, text):
    cell = _xlsx(tmp_path, [[text, 1]])["记录"]["A2"]
    assert cell.data_type == "s"
    # The file stores a carriage return as Excel's escape _x000D_, which openpyxl leaves as it is.
    assert cell.value.replace("_x000D_", "\r") == "'" + text


def test_xlsx_writes_numbers_dates_and_booleans_typed(tmp_path):
    sheet = _xlsx(tmp_path, [[Decimal("1234.50"), date(2025, 3, 5)], [True, 7]])["记录"]
    assert sheet["A2"].value == 1234.5 and sheet["A2"].data_type == "n"
    assert sheet["B2"].value == datetime(2025, 3, 5)
    assert (sheet["A3"].value, sheet["B3"].value) == ("是", 7)


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "EXCEL_MAX_ROWS", 3)
    book = _xlsx(tmp_path, [[f"第{n}行", n] for n in range(1, 6)])
    assert book.sheetnames == ["记录", "记录（2）", "记录（3）"]
    assert [row for row in book["记录（2）"].iter_rows(values_only=True)] == [("文本", "数"), ("第3行", 3), ("第4行", 4)]


def test_xlsx_cuts_text_longer_than_a_cell_holds_and_says_where_the_rest_is(tmp_path):
    value = _xlsx(tmp_path, [["长" * 40_000, 1]])["记录"]["A2"].value
    assert len(value) == sheets.EXCEL_MAX_CHARS
    assert value.endswith(sheets.TRUNCATED)


def test_merge_patch_follows_rfc_7396():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "keep": [1, 2]}
    patch = {"a": "z", "c": {"f": None, "h": "i"}, "keep": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e", "h": "i"}, "keep": [3]}
    assert target["c"] == {"d": "e", "f": "g"}
