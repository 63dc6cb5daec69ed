"""Reading uploads, parsing cells over distinct values, error reports and formula neutralising."""
from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from oversight.adapters.tables.cells import (
    CellError,
    ErrorCollector,
    match_columns,
    parse_choices,
    parse_dates,
    parse_fen,
    parse_id_numbers,
    parse_integers,
    parse_mobiles,
    parse_numbers,
    parse_text,
    parse_times,
    parse_with,
)
from oversight.adapters.tables.formulas import neutralize_cell, neutralize_texts
from oversight.adapters.tables.marked import HIGHLIGHT_RGB, error_workbook
from oversight.adapters.tables.reading import UnreadableFile, iter_table, read_table

TODAY = dt.date(2025, 6, 30)
CSV_TEXT = "任务编号, 服务日期 ,金额\nA1,2024-03-05,12\n\n , ,\nA2,2024年3月5日,１２３４．５\n"


def xlsx_bytes(rows: list[list], start: str = "A1") -> bytes:
    """A one-sheet workbook with `rows` written from cell `start`."""
    book = openpyxl.Workbook()
    sheet = book.active
    first = sheet[start]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.cell(row=first.row + r, column=first.column + c, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def series(*values: object) -> pd.Series:
    return pd.Series(list(values), index=range(2, 2 + len(values)), dtype=object)


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_is_read_in_each_accepted_encoding(encoding):
    table = read_table(CSV_TEXT.encode(encoding), "log.csv")
    assert list(table.columns) == ["任务编号", "服务日期", "金额"]
    assert table.index.name == "excel_row"
    assert list(table.index) == [2, 5]
    assert table.loc[5, "服务日期"] == "2024年3月5日"
    assert table.loc[5, "金额"] == "１２３４．５"


def test_gb18030_characters_outside_gbk_survive():
    table = read_table("姓名\n䶮𠀀\n".encode("gb18030"), "a.csv")
    assert table.loc[2, "姓名"] == "䶮𠀀"


def test_csv_leading_blank_lines_and_quoted_line_breaks_keep_excel_row_numbers():
    table = read_table(b'\n\nname,note\n"a","two\nlines"\n\nb,x\n', "a.csv")
    assert list(table.index) == [4, 6]
    assert table.loc[4, "note"] == "two\nlines"


def test_tab_separated_text_is_read():
    table = read_table("任务编号\t金额\nA1\t5\n".encode(), "a.txt")
    assert table.loc[2, "金额"] == "5"


def test_xlsx_cells_become_text_with_iso_dates_and_excel_row_numbers():
    data = xlsx_bytes([
        [" 任务编号 ", "服务日期", "开始时间", "金额", "身份证号", "时刻"],
        ["A1", dt.date(2024, 3, 5), dt.time(9, 5), 1234.5, "11010519491231002X", dt.datetime(2024, 3, 5, 10, 30)],
        [None] * 6,
        ["A2", "2024/3/5", "9:05", 12, None, None],
    ])
    table = read_table(data, "log.xlsx")
    assert list(table.columns) == ["任务编号", "服务日期", "开始时间", "金额", "身份证号", "时刻"]
    assert list(table.index) == [2, 4]
    assert table.loc[2].tolist() == ["A1", "2024-03-05", "09:05:00", "1234.5", "11010519491231002X",
                                     "2024-03-05 10:30:00"]
    assert table.loc[4].tolist() == ["A2", "2024/3/5", "9:05", "12", "", ""]


def test_xlsx_header_away_from_a1_keeps_sheet_row_numbers_and_drops_unnamed_columns():
    data = xlsx_bytes([["任务编号", "金额", None], ["A1", 5, "stray"], [None, None, "only here"], ["A2", 6, None]],
                      start="C3")
    table = read_table(data, "x.xlsx")
    assert list(table.columns) == ["任务编号", "金额"]
    assert list(table.index) == [4, 6]


def test_iter_table_gives_the_same_rows_in_pieces_with_a_row_bound():
    text = "a,b\n" + "".join(f"{i},{i * 2}\n" + ("\n" if i % 3 == 0 else "") for i in range(10))
    chunks = iter_table(text.encode(), "a.csv", chunk_rows=4)
    assert chunks.rows_hint >= 10
    pieces = list(chunks)
    assert len(pieces) > 1
    pd.testing.assert_frame_equal(pd.concat(pieces), read_table(text.encode(), "a.csv"))


def test_header_only_file_gives_an_empty_table():
    table = read_table("任务编号,金额\n".encode(), "a.csv")
    assert table.empty and list(table.columns) == ["任务编号", "金额"]


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "a.csv", "文件是空的"),
        (b"\n\n  \n", "a.csv", "没有内容"),
        (b"%PDF-1.4 ...", "a.pdf", "不支持的文件类型"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls", ".xls"),
        (b"not a workbook", "a.xlsx", "不是有效的 Excel"),
        (b"PK\x03\x04garbage", "a.xlsx", "不是有效的 Excel"),
        ("任务编号,任务编号\n1,2\n".encode(), "a.csv", "重复的列名"),
        (b"a,b\n1,2\n1,2,3\n", "a.csv", "第3行有3列"),
        (b"a\x00b\x00", "a.csv", "不是文本"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, name, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read_table(data, name)


# --- parsers -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "２０２４－０３－０５",
                                  " 2024.3.5 ", "2024-03-05 00:00:00", "2024 年 3 月 5 日"])
def test_each_date_form_is_accepted(text):
    parsed = parse_dates(series(text))
    assert parsed.errors.empty
    assert parsed.values[2] == dt.date(2024, 3, 5)


@pytest.mark.parametrize(("text", "reason"), [("2024-02-30", "日期不存在"), ("5/3/2024", "格式无法识别"),
                                               ("昨天", "格式无法识别"), ("", "不能为空")])
def test_bad_dates_are_refused(text, reason):
    parsed = parse_dates(series("2024-01-01", text))
    assert list(parsed.errors.index) == [3]
    assert reason in parsed.errors[3]
    assert parsed.values[3] is None


def test_optional_blank_cells_are_missing_not_errors():
    for parse in (parse_dates, parse_times, parse_fen, parse_text):
        parsed = parse(series("", None, np.nan), required=False)
        assert parsed.errors.empty
        assert parsed.values.isna().all()


@pytest.mark.parametrize(("text", "expected"), [("9:05", "09:05"), ("09:05", "09:05"), ("09:05:59", "09:05"),
                                                ("9时5分", "09:05"), ("０９：０５", "09:05"), ("0.4375", "10:30"),
                                                ("2024-03-05 10:30:00", "10:30"), ("23:59", "23:59")])
def test_times_are_read_as_hh_mm(text, expected):
    parsed = parse_times(series(text))
    assert parsed.errors.empty
    assert parsed.values[2] == expected


@pytest.mark.parametrize(("text", "reason"), [("24:00", "时间无效"), ("9:60", "时间无效"), ("nine", "HH:MM")])
def test_bad_times_are_refused(text, reason):
    assert reason in parse_times(series(text)).errors[2]


@pytest.mark.parametrize(("text", "fen"), [("1,234.50", 123450), ("１，２３４．５", 123450), ("0", 0), ("12", 1200),
                                           ("¥12.3", 1230), ("12元", 1200), ("0.30000000000000004", 30),
                                           ("1E3", 100000)])
def test_amounts_become_integer_fen(text, fen):
    parsed = parse_fen(series(text))
    assert parsed.errors.empty
    assert parsed.values[2] == fen
    assert parsed.values.dtype == "Int64"


@pytest.mark.parametrize(("text", "reason"), [("1.234", "两位小数"), ("-5", "负数"), ("12块", "金额数字"),
                                               ("1e12", "金额过大"), ("inf", "金额数字")])
def test_bad_amounts_are_refused(text, reason):
    assert reason in parse_fen(series(text)).errors[2]


def test_negative_amounts_when_allowed():
    assert parse_fen(series("-1,000.5"), negative_allowed=True).values[2] == -100050


def test_integers_within_a_range():
    parsed = parse_integers(series("3", "3.0", "0", "21", "2.5", "x"), 1, 20)
    assert parsed.values[2] == 3 and parsed.values[3] == 3
    assert list(parsed.errors.index) == [4, 5, 6, 7]
    assert set(parsed.errors) == {"应为1到20之间的整数"}


def test_decimal_numbers_within_a_range():
    parsed = parse_numbers(series("116.397", "200", "东经"), 73, 136)
    assert parsed.values[2] == pytest.approx(116.397)
    assert parsed.errors.to_dict() == {3: "应在73到136之间", 4: "应为数字"}


def test_id_numbers_are_normalised_and_checked_over_distinct_values():
    parsed = parse_id_numbers(
        series("11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", "110105194912310021", "440524188001010014", "123"),
        today=TODAY,
    )
    assert parsed.values[2] == parsed.values[3] == "11010519491231002X"
    assert parsed.values[5] == "440524188001010014"
    assert parsed.errors.to_dict() == {4: "身份证号校验位错误", 6: "身份证号应为18位，实际为3位"}


def test_mobiles():
    parsed = parse_mobiles(series("138 0013 8000", "+8613800138000", "12345678901"))
    assert parsed.values[2] == parsed.values[3] == "13800138000"
    assert list(parsed.errors.index) == [4]


def test_choices_with_synonyms_and_spaces():
    parsed = parse_choices(series("符合", " 不 符合", "需要复核", "行"),
                           {"符合": "符合", "不符合": "不符合", "需复核": "需复核", "需要复核": "需复核"},
                           shown=("符合", "不符合", "需复核"))
    assert parsed.values.tolist()[:3] == ["符合", "不符合", "需复核"]
    assert parsed.errors.to_dict() == {5: "应为以下之一：符合、不符合、需复核"}


def test_text_length_limit_and_half_width():
    parsed = parse_text(series("  备注 ", "字" * 6), max_length=5)
    assert parsed.values[2] == "备注"
    assert parsed.errors[3] == "最多5个字，实有6个字"
    # Every parser but free text reads full-width digits and letters as ASCII.
    assert parse_with(series("ＡＢ１ ", None), str, required=False).values.tolist() == ["AB1", None]


# --- columns and errors --------------------------------------------------------------------


def test_missing_required_columns_make_one_error_naming_them_all():
    table = pd.DataFrame(columns=["任务编号", "家庭年收入（元）", "备注 "])
    found, errors = match_columns(table, ["任务编号", "家庭年收入(元)", "服务日期", "开始时间", "备注"],
                                  required={"任务编号", "家庭年收入(元)", "服务日期", "开始时间"})
    assert found == {"任务编号": "任务编号", "家庭年收入(元)": "家庭年收入（元）", "备注": "备注 "}
    assert errors == [CellError(1, "服务日期、开始时间", "", "缺少必需的列：服务日期、开始时间")]


def test_unit_suffix_is_optional_in_headers_but_two_spellings_of_one_column_are_refused():
    table = pd.DataFrame(columns=["工资性收入", "工资性收入(元)"])
    found, errors = match_columns(table, ["工资性收入(元)"], required=set())
    assert found == {"工资性收入(元)": "工资性收入"}
    assert len(errors) == 1 and "重复" in errors[0].reason


def test_collector_keeps_the_first_reason_per_cell_and_orders_by_row_then_column():
    table = pd.DataFrame({"a": ["x", "y"], "b": ["p", "q"]}, index=[2, 3])
    collector = ErrorCollector(table)
    collector.add_where("b", pd.Series([True, False], index=[2, 3]), "first")
    collector.add_where("b", pd.Series([True, True], index=[2, 3]), lambda rows: "second " + table.loc[rows, "a"])
    collector.add("a", pd.Series(["in a"], index=[3]))
    assert collector.errors() == [CellError(2, "b", "p", "first"), CellError(3, "a", "y", "in a"),
                                  CellError(3, "b", "q", "second y")]
    assert collector.bad("b").tolist() == [True, True]


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
                                                 ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
                                                 ("-500", "-500"), ("+3.5", "+3.5"), ("张三", "张三"), (-5, -5),
                                                 (None, None)])
def test_formula_injection_is_neutralised(value, expected):
    assert neutralize_cell(value) == expected


def test_neutralize_texts_touches_only_risky_text():
    texts = pd.Series(["=HYPERLINK(1)", "ok", "-5", "@x", "-2"])
    assert neutralize_texts(texts).tolist() == ["'=HYPERLINK(1)", "ok", "-5", "'@x", "-2"]
    assert texts[0] == "=HYPERLINK(1)"


ERRORS = [
    CellError(2, "服务日期", "2099-01-01", "服务日期不能晚于今天"),
    CellError(2, "金额", "", "不能为空"),
    CellError(4, "任务编号", "A3", "本合同中没有该任务编号"),
    CellError(1, "开始时间", "", "缺少必需的列：开始时间"),
]


def fills(book_bytes: bytes) -> dict[tuple[int, int], str]:
    sheet = openpyxl.load_workbook(io.BytesIO(book_bytes)).worksheets[0]
    return {(cell.row, cell.column): cell.value for row in sheet.iter_rows() for cell in row
            if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == HIGHLIGHT_RGB}


def reasons(book_bytes: bytes, column: int) -> dict[int, str]:
    sheet = openpyxl.load_workbook(io.BytesIO(book_bytes)).worksheets[0]
    return {row: sheet.cell(row=row, column=column).value for row in range(1, sheet.max_row + 1)
            if sheet.cell(row=row, column=column).value}


def check_marked(book_bytes: bytes, untouched: list) -> None:
    assert set(fills(book_bytes)) == {(2, 2), (2, 3), (4, 1)}
    assert reasons(book_bytes, 4) == {
        1: "错误原因（表头：缺少必需的列：开始时间）",
        2: "服务日期：服务日期不能晚于今天；金额：不能为空",
        4: "任务编号：本合同中没有该任务编号",
    }
    sheet = openpyxl.load_workbook(io.BytesIO(book_bytes)).worksheets[0]
    assert [sheet.cell(row=3, column=c).value for c in (1, 2, 3, 4)] == untouched


def test_error_workbook_from_csv_marks_exactly_the_bad_cells():
    data = "任务编号,服务日期,金额\nA1,2099-01-01,\nA2,2024-03-06,=cmd\nA3,2024-03-07,5\n".encode("gbk")
    check_marked(error_workbook(data, "log.csv", ERRORS), ["A2", "2024-03-06", "'=cmd", None])


@pytest.mark.parametrize("max_styled_cells", [100_000, 0])
def test_error_workbook_from_xlsx_marks_exactly_the_bad_cells(max_styled_cells):
    data = xlsx_bytes([["任务编号", "服务日期", "金额"], ["A1", "2099-01-01", None], ["A2", "2024-03-06", "ok"],
                       ["A3", "2024-03-07", 5]])
    book = error_workbook(data, "log.xlsx", ERRORS, max_styled_cells=max_styled_cells)
    check_marked(book, ["A2", "2024-03-06", "ok", None])


def test_error_workbook_copy_escapes_xml_and_drops_control_characters():
    data = b'a,b\n"x<&>y",\x01ctl\n'
    book = error_workbook(data, "a.csv", [CellError(2, "b", "ctl", "含<特殊>&字符")])
    table = read_table(book, "report.xlsx")
    assert table.loc[2].tolist() == ["x<&>y", "ctl", "b：含<特殊>&字符"]
    assert set(fills(book)) == {(2, 2)}


def test_error_workbook_keeps_the_users_formatting_of_a_small_workbook():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["任务编号", "金额"])
    sheet.append(["A1", 5])
    sheet["B2"].number_format = "0.00"
    sheet.column_dimensions["A"].width = 33
    out = io.BytesIO()
    book.save(out)
    marked = openpyxl.load_workbook(io.BytesIO(error_workbook(out.getvalue(), "a.xlsx",
                                                              [CellError(2, "金额", "5", "x")]))).active
    assert marked["B2"].number_format == "0.00"
    assert marked.column_dimensions["A"].width == 33
    assert marked["C1"].value == "错误原因" and marked["C2"].value == "金额：x"
