"""Upload limits: the .xlsx extent, unpacked size and DTDs checked before calamine, CSV NUL
bytes, row and column limits, errors capped and counted, dates with a time, inert formulas."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from oversight.adapters.tables.cells import CellError, ErrorCollector, parse_dates
from oversight.adapters.tables.marked import error_workbook
from oversight.adapters.tables.reading import DEFAULT_LIMITS, ReadLimits, UnreadableFile, read_table
from tests import hostile_files
from tests.hostile_files import header_row, inline_cell, workbook
from tests.unit.test_completion_log import GOOD, context, csv_bytes, validate_log

HEADERS = ["任务编号", "服务日期", "金额"]
SMALL = ReadLimits(max_rows=50, last_column=6, max_uncompressed_bytes=1 << 20)
BEYOND = "超出了可读取的范围"


def refusal(data: bytes, name: str = "log.xlsx", limits: ReadLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(UnreadableFile) as refused:
        read_table(data, name, limits)
    return str(refused.value)


def rows_xml(count: int, first: int = 2, columns: str = "ABC") -> str:
    return "".join(f'<row r="{row}">' + "".join(inline_cell(f"{c}{row}", f"{c}{row}") for c in columns) + "</row>"
                   for row in range(first, first + count))


# --- the sheet's extent --------------------------------------------------------------------


def test_a_value_at_the_last_cell_of_the_sheet_is_refused_before_calamine_reads_it():
    assert refusal(hostile_files.far_cell_xlsx(HEADERS)).startswith(f"工作表在 XFD1048576 单元格还有内容，{BEYOND}")


@pytest.mark.parametrize("cell", [
    '<c r="XFD5"><v>1</v></c>',  # the byte search sees it
    '<c\tr="XFD5"><v>1</v></c>',  # a tab before the reference
    "<c r='XFD5'><v>1</v></c>",  # single quotes
    '<c s="0" r="XFD5"><v>1</v></c>',  # the reference not first
    '<c r="xfd5"><v>1</v></c>',  # lower case
    '<x:c r="XFD5"><x:v>1</x:v></x:c>',  # a prefix calamine ignores
    '<c r="A1048576"><v>1</v></c>',  # far down
])
def test_a_far_value_is_refused_however_its_cell_is_written(cell):
    data = workbook(header_row(HEADERS) + f'<row r="5">{cell}</row>')
    assert BEYOND in refusal(data)


def test_cells_without_references_are_placed_as_calamine_places_them():
    assert refusal(hostile_files.positionless_wide_xlsx(HEADERS, width=40, height=10)).startswith("工作表在 AG2")
    narrow = workbook(header_row(HEADERS) + '<row r="2"><c t="inlineStr"><is><t>A1</t></is></c><c><v>3</v></c></row>')
    assert read_table(narrow, "log.xlsx").loc[2].tolist() == ["A1", "3", ""]


def test_formatted_empty_cells_far_away_do_not_refuse_a_sheet_excel_keeps_them_in():
    data = workbook(header_row(HEADERS) + rows_xml(2) + '<row r="900000"><c r="XFD900000" s="1"/></row>',
                    dimension="A1:XFD900000")
    table = read_table(data, "log.xlsx")
    assert list(table.columns) == HEADERS and list(table.index) == [2, 3]


def test_a_sheet_up_to_its_limits_is_read_and_one_past_them_refused():
    at_limits = workbook(header_row(list("ABCDEF")) + rows_xml(50, columns="ABCDEF"))
    assert len(read_table(at_limits, "log.xlsx", SMALL)) == 50
    assert BEYOND in refusal(workbook(header_row(list("ABCDEFG"))), limits=SMALL)
    assert "50 行数据的上限" in refusal(workbook(header_row(HEADERS) + rows_xml(51)), limits=SMALL)
    assert BEYOND in refusal(workbook(header_row(HEADERS) + rows_xml(1, first=71)), limits=SMALL)


def test_the_templates_written_by_excel_libraries_are_read_as_before():
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    book.active.append(["A1", dt.date(2024, 3, 5), 12])
    book.create_sheet("第二张").cell(row=5000, column=200, value="另一张表不影响")
    out = io.BytesIO()
    book.save(out)
    assert read_table(out.getvalue(), "log.xlsx").loc[2].tolist() == ["A1", "2024-03-05", "12"]


# --- unpacked size, DTDs, NUL bytes --------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_unpacked_size_even_when_its_headers_lie():
    bomb = hostile_files.zip_bomb_xlsx(HEADERS, 4 << 20)
    assert refusal(bomb, limits=SMALL).startswith("文件解压后超过 1 MB 的上限")
    lying = hostile_files.lying_sizes(bomb, "xl/worksheets/sheet1.xml")
    assert refusal(lying, limits=SMALL).startswith("文件解压后超过 1 MB 的上限")


def test_one_shared_string_used_by_many_cells_counts_once_per_cell():
    data = hostile_files.shared_string_amplifier_xlsx(HEADERS, cells=2_000)
    assert len(data) < 100_000
    assert refusal(data, limits=ReadLimits(max_uncompressed_bytes=16 << 20)).startswith("文件解压后超过 16 MB")
    assert len(read_table(data, "log.xlsx", ReadLimits(max_uncompressed_bytes=256 << 20))) == 1_000


def test_a_document_type_declaration_is_refused():
    assert "文档类型声明（DTD）" in refusal(hostile_files.billion_laughs_xlsx(HEADERS))


def test_a_csv_with_nul_bytes_anywhere_is_refused():
    assert refusal(hostile_files.nul_csv(HEADERS), "log.csv").startswith("文件中含有空字符（NUL），不是文本格式的 CSV")


def test_a_csv_past_the_size_row_or_column_limit_is_refused():
    assert refusal(b"a,b\n" + b"1,2\n" * 300_000, "log.csv", SMALL).startswith("文件超过 1 MB 的上限")
    assert "50 行数据的上限" in refusal(b"a,b\n" + b"1,2\n" * 51, "log.csv", SMALL)
    assert len(read_table(b"a,b\n" + b"1,2\n" * 50, "log.csv", SMALL)) == 50
    assert "表头有 7 列" in refusal(b"a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n", "log.csv", SMALL)


# --- errors past the cap -------------------------------------------------------------------


def test_the_collector_lists_the_first_errors_in_order_and_counts_them_all():
    table = pd.DataFrame({"a": list("xyzw"), "b": list("pqrs")}, index=[2, 3, 4, 5])
    collector = ErrorCollector(table)
    collector.add_where("b", pd.Series([True, True, False, True], index=table.index), "b bad")
    collector.add_where("a", pd.Series([False, True, True, True], index=table.index), "a bad")
    assert collector.count() == 6
    assert collector.errors(3) == collector.errors()[:3] == [
        CellError(2, "b", "p", "b bad"), CellError(3, "a", "y", "a bad"), CellError(3, "b", "q", "b bad")]


def test_a_log_with_more_errors_than_kept_counts_the_unlisted_ones():
    rows = [{**GOOD["household_survey"], "家庭人口数": "三", "调查结论": "?"}] * 30
    validation = validate_log(read_table(csv_bytes("household_survey", rows), "log.csv"),
                              context("household_survey"), max_errors=7)
    assert len(validation.errors) == 7 and validation.error_count == 60 + 29  # and 29 repeated rows
    assert [error.row for error in validation.errors] == [2, 2, 3, 3, 3, 4, 4]


def test_the_marked_copy_says_how_many_errors_it_does_not_list():
    data = "任务编号,金额\nA1,x\n".encode()
    book = openpyxl.load_workbook(io.BytesIO(error_workbook(data, "log.csv", [CellError(2, "金额", "x", "坏")],
                                                            unlisted=1_234)))
    assert book.active["C1"].value == "错误原因（另有 1,234 处错误未列出，请改正以上错误后重新上传再查看）"


# --- dates with a time ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-11-01T25:00", "2026-11-01 10:60", "2026-11-01 23:59:60"])
def test_a_date_with_an_impossible_time_is_refused(text):
    parsed = parse_dates(pd.Series([text], index=[2]))
    assert parsed.values[2] is None
    assert parsed.errors[2] == "日期后的时间无效（小时应为0–23，分和秒应为0–59）"


def test_a_date_with_a_real_time_is_the_date():
    assert parse_dates(pd.Series(["2026-11-01T23:59", "2026-11-01 00:00:59"])).values.tolist() == [
        dt.date(2026, 11, 1)] * 2


# --- formulas in the error workbook --------------------------------------------------------


def test_formulas_and_links_of_an_edited_workbook_become_inert_text():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["任务编号", "金额", "备注"])
    sheet.append(["A1", '=HYPERLINK("http://evil.example","点我")', "=cmd|' /C calc'!A0"])
    sheet.append(["A2", 5, "@SUM(1)"])
    sheet["A3"].hyperlink = "file:///etc/passwd"
    out = io.BytesIO()
    book.save(out)
    marked = openpyxl.load_workbook(io.BytesIO(error_workbook(out.getvalue(), "log.xlsx",
                                                              [CellError(2, "金额", "x", "坏")]))).active
    assert marked["B2"].value == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    assert marked["C2"].value == "'=cmd|' /C calc'!A0" and marked["C3"].value == "'@SUM(1)"
    assert {cell.data_type for row in marked.iter_rows() for cell in row} <= {"s", "n"}
    assert marked["A3"].hyperlink is None and marked["B3"].value == 5
