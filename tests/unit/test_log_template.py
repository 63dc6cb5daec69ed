"""The downloadable completion-log template: headers, worker sheet, drop-downs, round trip."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from stdnum.cn import ric

from oversight.adapters.tables.cells import match_columns
from oversight.adapters.tables.reading import read_table
from oversight.adapters.tables.templates import (
    DATA_SHEET,
    GUIDE_SHEET,
    UNSTARTED_ROWS_NOTE,
    WORKER_SHEET,
    build_template,
)
from oversight.domain import self_care
from oversight.domain.completion_log import CARE_ITEMS, TEMPLATE_COLUMNS, LogContext, validate_log

WORKERS = [("W01", "赵六"), ("W02", "=钱七")]


def open_template(service_type: str, prefill=()) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build_template(service_type, WORKERS, prefill)))


def validations(sheet) -> dict[str, object]:
    """Data validations by the header of the column they cover."""
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for rule in sheet.data_validations.dataValidation:
        first = str(rule.sqref).split(":")[0]
        assert str(rule.sqref).endswith("1048576") and first.endswith("2")
        found[headers[first.rstrip("0123456789")]] = rule
    return found


@pytest.mark.parametrize("service_type", list(TEMPLATE_COLUMNS))
def test_template_has_the_section_4_headers_and_the_worker_sheet(service_type):
    book = open_template(service_type)
    assert book.sheetnames == [DATA_SHEET, WORKER_SHEET, GUIDE_SHEET]
    sheet = book[DATA_SHEET]
    assert [cell.value for cell in sheet[1]] == [column.header for column in TEMPLATE_COLUMNS[service_type]]
    assert list(book[WORKER_SHEET].values) == [("工号", "姓名"), ("W01", "赵六"), ("W02", "'=钱七")]
    assert sheet.freeze_panes == "A2"
    worker = validations(sheet)["服务人员工号"]
    assert worker.type == "list" and worker.formula1 == f"'{WORKER_SHEET}'!$A$2:$A$3"
    guide = list(book[GUIDE_SHEET].values)
    assert [row[0] for row in guide[1:1 + len(TEMPLATE_COLUMNS[service_type])]] == [
        column.header for column in TEMPLATE_COLUMNS[service_type]]


def test_survey_template_offers_the_conclusions_and_checks_household_size():
    rules = validations(open_template("household_survey")[DATA_SHEET])
    assert rules["调查结论"].formula1 == '"符合,不符合,需复核"'
    assert (rules["家庭人口数"].type, rules["家庭人口数"].formula1, rules["家庭人口数"].formula2) == ("whole", "1", "20")


def test_self_care_template_offers_met_or_not_for_the_six_items_and_the_conclusions():
    rules = validations(open_template("self_care_assessment")[DATA_SHEET])
    for label in self_care.ITEM_LABELS.values():
        assert rules[label].formula1 == '"能,不能"'
    assert rules["评估结论"].formula1 == '"' + ",".join(self_care.CONCLUSIONS) + '"'


def test_care_template_lists_the_items_but_lets_several_be_typed():
    rules = validations(open_template("care_visit")[DATA_SHEET])
    assert rules["服务项目"].formula1 == '"' + ",".join(CARE_ITEMS) + '"'
    assert rules["服务项目"].errorStyle == "information"
    assert rules["对象签字确认"].formula1 == '"是,否"'


def test_identifier_columns_are_text_so_excel_keeps_every_digit():
    sheet = open_template("care_visit")[DATA_SHEET]
    headers = {cell.value: cell.column_letter for cell in sheet[1]}
    for header in ("任务编号", "身份证号", "服务人员工号"):
        assert sheet.column_dimensions[headers[header]].number_format == "@"


def test_no_worker_drop_down_without_registered_workers():
    book = openpyxl.load_workbook(io.BytesIO(build_template("care_visit", [])))
    assert "服务人员工号" not in validations(book[DATA_SHEET])
    assert list(book[WORKER_SHEET].values) == [("工号", "姓名")]


def test_prefilled_assignments_read_back_and_a_partly_filled_template_is_accepted():
    body = "11010519800101001"
    id_number = body + ric.calc_check_digit(body + "0")
    data = build_template("care_visit", WORKERS, [("JD001", "王五", id_number), ("JD002", "-李四", "x")])
    table = read_table(data, "template.xlsx")
    assert table[["任务编号", "服务对象姓名", "身份证号"]].values.tolist() == [
        ["JD001", "王五", id_number], ["JD002", "'-李四", "x"]]
    found, errors = match_columns(table, [c.header for c in TEMPLATE_COLUMNS["care_visit"]], [])
    assert errors == [] and len(found) == len(TEMPLATE_COLUMNS["care_visit"])

    book = openpyxl.load_workbook(io.BytesIO(build_template("care_visit", WORKERS, [
        ("JD001", "王五", id_number), ("JD002", "李四", "x"), ("JD003", "张三", "y")])))
    assert UNSTARTED_ROWS_NOTE in [row[0] for row in book[GUIDE_SHEET].values]
    sheet = book[DATA_SHEET]
    for header, value in {"服务日期": dt.date(2024, 3, 5), "开始时间": dt.time(9, 0), "结束时间": dt.time(9, 45),
                          "服务人员工号": "W01", "服务人员姓名": "赵六", "服务项目": "生活照料、精神慰藉",
                          "对象签字确认": "是"}.items():
        column = [cell.value for cell in sheet[1]].index(header) + 1
        sheet.cell(row=2, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    ctx = LogContext(
        "care_visit", dt.date(2024, 1, 1), dt.date(2024, 12, 31), dt.date(2024, 6, 30),
        pd.DataFrame({"number": ["JD001"], "assignment_id": [1], "subject_name": ["王五"], "id_number": [id_number],
                      "service_type": ["care_visit"], "status": ["assigned"], "township": ["城关镇"]}),
        pd.DataFrame(WORKERS, columns=["worker_no", "name"]),
        pd.DataFrame(columns=["assignment_id", "service_date", "start_time"]),
    )
    result = validate_log(read_table(out.getvalue(), "filled.xlsx"), ctx)
    assert result.errors == [] and result.skipped == 2
    assert result.records.iloc[0][["care_items", "duration_minutes"]].tolist() == ["生活照料、精神慰藉", 45]
