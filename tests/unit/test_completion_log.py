"""Completion-log validation (SPEC section 4): every rule, whole-file acceptance, record types."""
from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from stdnum.cn import ric

from oversight.adapters.tables.cells import EXCEL_ROW, CellError
from oversight.adapters.tables.reading import iter_table, read_table
from oversight.domain import self_care
from oversight.domain.completion_log import (
    PREFILLED_COLUMNS,
    RECORD_COLUMNS,
    TEMPLATE_COLUMNS,
    LogContext,
    validate_log,
)

TODAY = dt.date(2024, 6, 30)


def id_number(serial: int, birth: str = "19800101") -> str:
    """A valid resident ID number."""
    body = f"110105{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


ASSIGNMENTS = pd.DataFrame({
    "number": ["JD001", "JD002", "JD003", "JD004", "JD005", "JD006"],
    "assignment_id": [101, 102, 103, 104, 105, 106],
    "subject_name": ["张三", "李四", "王五", "赵老太", "孙大爷", "阿依古丽·买买提"],
    "id_number": [id_number(n) for n in range(1, 7)],
    "service_type": ["household_survey", "household_survey", "care_visit", "self_care_assessment", "care_visit",
                     "household_survey"],
    "status": ["assigned", "cancelled", "assigned", "completed", "overdue", "assigned"],
    "township": ["城关镇"] * 6,
})
WORKERS = pd.DataFrame({"worker_no": ["W01", "W02"], "name": ["赵六", "钱七"]})
EXISTING = pd.DataFrame({"assignment_id": [101], "service_date": [dt.date(2024, 3, 1)], "start_time": ["08:00"]})

COMMON = {"任务编号": "JD001", "服务对象姓名": "张三", "身份证号": id_number(1), "服务日期": "2024-03-05",
          "开始时间": "09:00", "结束时间": "10:00", "服务人员工号": "W01", "服务人员姓名": "赵六"}
GOOD = {
    "household_survey": {**COMMON, "家庭人口数": "3", "家庭年收入(元)": "36000", "家庭金融资产(元)": "1000.50",
                         "调查结论": "符合"},
    "self_care_assessment": {**COMMON, "任务编号": "JD004", "服务对象姓名": "赵老太", "身份证号": id_number(4),
                             **{label: "能" for label in self_care.ITEM_LABELS.values()},
                             "评估结论": self_care.CONCLUSION_FULL},
    "care_visit": {**COMMON, "任务编号": "JD003", "服务对象姓名": "王五", "身份证号": id_number(3),
                   "服务项目": "生活照料、心理疏导", "对象签字确认": "是"},
}


def context(service_type: str, existing: pd.DataFrame = EXISTING) -> LogContext:
    return LogContext(service_type, dt.date(2024, 1, 1), dt.date(2024, 12, 31), TODAY, ASSIGNMENTS, WORKERS,
                      existing, poverty_line_fen=80_000)


def csv_bytes(service_type: str, rows: list[dict], encoding: str = "utf-8") -> bytes:
    headers = [column.header for column in TEMPLATE_COLUMNS[service_type]]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def validate(service_type: str, *changes: dict, existing: pd.DataFrame = EXISTING):
    rows = [{**GOOD[service_type], **change} for change in (changes or ({},))]
    return validate_log(read_table(csv_bytes(service_type, rows), "log.csv"), context(service_type, existing))


# --- accepted files ------------------------------------------------------------------------


@pytest.mark.parametrize("service_type", list(TEMPLATE_COLUMNS))
def test_a_good_file_gives_typed_records_with_the_documented_columns(service_type):
    result = validate(service_type)
    assert result.errors == [] and result.accepted
    records = result.records
    assert list(records.columns) == list(RECORD_COLUMNS[service_type])
    for column, dtype in RECORD_COLUMNS[service_type].items():
        if dtype is not None:
            assert records[column].dtype == pd.api.types.pandas_dtype(dtype), column
    row = records.iloc[0]
    assert row["excel_row"] == 2
    assert row["service_date"] == dt.date(2024, 3, 5)
    assert (row["start_time"], row["end_time"], row["duration_minutes"]) == ("09:00", "10:00", 60)
    assert row["worker_no"] == "W01"
    assert np.isnan(row["longitude"]) and row["remark"] is None


def test_survey_record_values_are_in_fen_with_per_capita_income():
    records = validate("household_survey", {"工资性收入(元)": "30,000", "经营净收入(元)": "-1000",
                                            "转移净收入(元)": "7000.4", "房产数量": "1"}).records
    row = records.iloc[0]
    assert row["assignment_id"] == 101
    assert row["annual_income_fen"] == 3_600_000
    assert row["financial_assets_fen"] == 100_050
    assert (row["wage_income_fen"], row["business_income_fen"], row["transfer_income_fen"]) == (
        3_000_000, -100_000, 700_040)
    assert records["property_income_fen"].isna().all() and records["vehicle_count"].isna().all()
    assert row["property_count"] == 1
    assert row["per_capita_monthly_income_fen"] == 100_000
    assert row["survey_conclusion"] == "符合"


def test_self_care_words_and_computed_conclusion():
    labels = list(self_care.ITEM_LABELS.values())
    change = {labels[0]: "否", labels[1]: "×", labels[2]: "未达到", labels[3]: "√", labels[4]: "是",
              labels[5]: "达到", "评估结论": "部分丧失生活自理能力"}
    row = validate("self_care_assessment", change).records.iloc[0]
    assert [row[key] for key in self_care.ITEM_KEYS] == [False, False, False, True, True, True]
    assert row["fails"] == 3 and row["conclusion"] == self_care.CONCLUSION_PARTIAL


def test_care_items_accept_each_separator_and_are_joined_without_repeats():
    row = validate("care_visit", {"服务项目": "生活照料，心理疏导;日常看护；生活照料,人文关怀", "对象签字确认": "否"}).records.iloc[0]
    assert row["care_items"] == "生活照料、心理疏导、日常看护、人文关怀"
    assert not row["signed"]


def test_full_width_text_spaces_and_case_are_tolerated():
    change = {"任务编号": "ｊｄ００１", "服务对象姓名": "张 三", "身份证号": id_number(1).lower(), "服务日期": "2024年3月5日",
              "开始时间": "９:００", "服务人员工号": "w01 ", "家庭年收入(元)": "３６，０００.００"}
    assert validate("household_survey", change).accepted


def test_minority_names_match_whatever_middle_dot_is_typed():
    change = {"任务编号": "JD006", "服务对象姓名": "阿依古丽•买买提", "身份证号": id_number(6)}
    assert validate("household_survey", change).accepted


def test_a_gbk_xlsx_style_file_with_excel_cells_is_accepted():
    headers = [column.header for column in TEMPLATE_COLUMNS["household_survey"]]
    values = {**GOOD["household_survey"], "服务日期": dt.date(2024, 3, 5), "开始时间": dt.time(9, 0),
              "结束时间": dt.time(10, 0), "家庭人口数": 3, "家庭年收入(元)": 36000.0, "家庭金融资产(元)": 1000.5}
    book = openpyxl.Workbook()
    book.active.append(headers)
    book.active.append([values.get(header) for header in headers])
    out = io.BytesIO()
    book.save(out)
    result = validate_log(read_table(out.getvalue(), "log.xlsx"), context("household_survey"))
    assert result.errors == []
    assert result.records.iloc[0]["start_time"] == "09:00"


# --- refused cells -------------------------------------------------------------------------

RULES = [
    ("household_survey", {"任务编号": "JD999"}, "任务编号", "本合同中没有该任务编号"),
    ("household_survey", {"任务编号": ""}, "任务编号", "不能为空"),
    ("household_survey", {"任务编号": "JD002", "服务对象姓名": "李四", "身份证号": id_number(2)}, "任务编号", "该任务已取消"),
    ("household_survey", {"任务编号": "JD003"}, "任务编号", "该任务为照料护理任务，不能填入家计调查记录表"),
    ("household_survey", {"服务对象姓名": "张四"}, "服务对象姓名", "与任务对象姓名不一致（应为：张三）"),
    ("household_survey", {"身份证号": id_number(2)}, "身份证号", "与任务对象的身份证号不一致"),
    ("household_survey", {"身份证号": id_number(1)[:-1] + ("1" if id_number(1)[-1] == "0" else "0")}, "身份证号",
     "校验位错误"),
    ("household_survey", {"身份证号": "110105"}, "身份证号", "应为18位"),
    ("household_survey", {"服务日期": "2024-07-01"}, "服务日期", "服务日期不能晚于今天（2024-06-30）"),
    ("household_survey", {"服务日期": "2023-12-31"}, "服务日期", "早于合同起始日（2024-01-01）"),
    ("household_survey", {"服务日期": "2024-02-30"}, "服务日期", "日期不存在"),
    ("household_survey", {"开始时间": "9点"}, "开始时间", "时间格式应为 HH:MM"),
    ("household_survey", {"结束时间": "08:00"}, "结束时间", "结束时间应晚于开始时间"),
    ("household_survey", {"结束时间": "09:04"}, "结束时间", "服务时长为4分钟，应在5到480分钟之间"),
    ("household_survey", {"开始时间": "08:00", "结束时间": "16:01"}, "结束时间", "服务时长为481分钟"),
    ("household_survey", {"服务人员工号": "W09"}, "服务人员工号", "该工号不是本承接主体登记的服务人员"),
    ("household_survey", {"服务人员姓名": "钱七"}, "服务人员姓名", "与该工号登记的姓名不一致（应为：赵六）"),
    ("household_survey", {"经度": "116.4"}, "纬度", "经度和纬度应同时填写或同时留空"),
    ("household_survey", {"纬度": "39.9"}, "经度", "经度和纬度应同时填写或同时留空"),
    ("household_survey", {"经度": "16.4", "纬度": "39.9"}, "经度", "应在73到136之间"),
    ("household_survey", {"经度": "116.4", "纬度": "60"}, "纬度", "应在3到54之间"),
    ("household_survey", {"备注": "字" * 501}, "备注", "最多500个字，实有501个字"),
    ("household_survey", {"家庭人口数": "0"}, "家庭人口数", "应为1到20之间的整数"),
    ("household_survey", {"家庭人口数": "21"}, "家庭人口数", "应为1到20之间的整数"),
    ("household_survey", {"家庭年收入(元)": "-1"}, "家庭年收入(元)", "金额不能为负数"),
    ("household_survey", {"家庭年收入(元)": "100.123"}, "家庭年收入(元)", "金额最多保留两位小数"),
    ("household_survey", {"家庭年收入(元)": ""}, "家庭年收入(元)", "不能为空"),
    ("household_survey", {"工资性收入(元)": "30000", "其他收入(元)": "5998.99"}, "家庭年收入(元)",
     "各项收入合计35,998.99元，与家庭年收入相差超过1元"),
    ("household_survey", {"工资性收入(元)": "-5"}, "工资性收入(元)", "金额不能为负数"),
    ("household_survey", {"家庭金融资产(元)": "十万"}, "家庭金融资产(元)", "应为金额数字"),
    ("household_survey", {"房产数量": "-1"}, "房产数量", "应为0到99之间的整数"),
    ("household_survey", {"机动车数量": "1.5"}, "机动车数量", "应为0到99之间的整数"),
    ("household_survey", {"调查结论": "可以"}, "调查结论", "应为以下之一：符合、不符合、需复核"),
    ("self_care_assessment", {"自主吃饭": "还行"}, "自主吃饭", "应为以下之一：能、不能"),
    ("self_care_assessment", {"自主洗澡": ""}, "自主洗澡", "不能为空"),
    ("self_care_assessment", {"自主吃饭": "不能"}, "评估结论", "按六项指标（1项未达到）应为「部分丧失生活自理能力」"),
    ("self_care_assessment", {"评估结论": "良好"}, "评估结论", "应为以下之一：具备生活自理能力"),
    ("care_visit", {"服务项目": "生活照料、打扫卫生"}, "服务项目", "「打扫卫生」不是规定的服务项目"),
    ("care_visit", {"服务项目": "、"}, "服务项目", "至少填写一个服务项目"),
    ("care_visit", {"对象签字确认": "签了"}, "对象签字确认", "应为以下之一：是、否"),
    ("care_visit", {"任务编号": "JD001", "服务对象姓名": "张三", "身份证号": id_number(1)}, "任务编号",
     "该任务为家计调查任务，不能填入照料护理记录表"),
]


@pytest.mark.parametrize(("service_type", "change", "column", "reason"), RULES,
                         ids=[f"{c}:{r[:12]}" for _, _, c, r in RULES])
def test_each_rule_refuses_the_bad_cell_with_row_column_value_and_reason(service_type, change, column, reason):
    rows = [GOOD[service_type], {**GOOD[service_type], **change}]
    rows[0] = {**rows[0], "开始时间": "14:00", "结束时间": "15:00"}
    result = validate_log(read_table(csv_bytes(service_type, rows), "log.csv"), context(service_type))
    assert result.records is None
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert (error.row, error.column) == (3, column)
    assert error.value == {**GOOD[service_type], **change}.get(column, "")
    assert reason in error.reason


def test_income_parts_within_one_yuan_are_accepted():
    assert validate("household_survey", {"工资性收入(元)": "30000", "其他收入(元)": "5999.01"}).accepted


def test_a_file_with_one_bad_cell_is_refused_whole():
    result = validate("care_visit", {}, {"开始时间": "11:00", "结束时间": "12:00", "对象签字确认": "x"},
                      {"开始时间": "13:00", "结束时间": "14:00"})
    assert result.records is None and not result.accepted
    assert [(e.row, e.column) for e in result.errors] == [(3, "对象签字确认")]


def test_rows_repeating_an_earlier_row_point_to_it():
    result = validate("household_survey", {}, {"开始时间": "11:00", "结束时间": "12:00"}, {"任务编号": "jd001"})
    assert result.errors == [CellError(4, "任务编号", "JD001", "与第2行重复（同一任务、服务日期和开始时间）")]


def test_rows_repeating_a_stored_record_are_refused():
    stored = pd.DataFrame({"assignment_id": [101], "service_date": ["2024-03-05"], "start_time": [dt.time(9, 0)]})
    result = validate("household_survey", existing=stored)
    assert result.errors == [CellError(2, "任务编号", "JD001", "与已保存的记录重复（同一任务、服务日期和开始时间）")]
    assert validate("household_survey", existing=EXISTING).accepted


def test_errors_are_listed_by_row_then_column_across_the_file():
    result = validate("household_survey", {"服务日期": "2025-01-01", "任务编号": "JD999"},
                      {"开始时间": "11:00", "结束时间": "12:00", "调查结论": "?"})
    assert [(e.row, e.column) for e in result.errors] == [(2, "任务编号"), (2, "服务日期"), (3, "调查结论")]


def test_missing_columns_are_one_error_and_optional_columns_may_be_left_out():
    table = read_table("任务编号,服务对象姓名\nJD001,张三\n".encode(), "log.csv")
    errors = validate_log(table, context("care_visit")).errors
    assert len(errors) == 1 and errors[0].row == 1
    assert errors[0].reason.startswith("缺少必需的列：身份证号、服务日期、开始时间、结束时间、服务人员工号、服务人员姓名、服务项目、对象签字确认")
    required_only = [c.header for c in TEMPLATE_COLUMNS["care_visit"] if c.required]
    frame = pd.DataFrame([{h: GOOD["care_visit"][h] for h in required_only}])
    assert validate_log(read_table(frame.to_csv(index=False).encode(), "log.csv"), context("care_visit")).accepted


def test_headers_without_the_unit_suffix_are_matched():
    data = csv_bytes("household_survey", [GOOD["household_survey"]]).replace("(元)".encode(), b"", 1)
    assert validate_log(read_table(data, "log.csv"), context("household_survey")).accepted


def test_a_file_without_data_rows_is_refused():
    errors = validate_log(read_table(csv_bytes("care_visit", []), "log.csv"), context("care_visit")).errors
    assert errors == [CellError(2, "", "", "文件中没有数据行")]


def test_pieces_give_the_same_errors_and_records_as_the_whole_file():
    rows = [{**GOOD["household_survey"], "开始时间": f"{8 + i}:00", "结束时间": f"{8 + i}:30"} for i in range(7)]
    good = csv_bytes("household_survey", rows)
    whole = validate_log(read_table(good, "log.csv"), context("household_survey"))
    pieces = validate_log(iter_table(good, "log.csv", chunk_rows=2), context("household_survey"))
    pd.testing.assert_frame_equal(whole.records, pieces.records)
    bad = csv_bytes("household_survey", [*rows, rows[1], {**rows[0], "调查结论": "?"}])
    assert validate_log(iter_table(bad, "log.csv", chunk_rows=3), context("household_survey")).errors == \
        validate_log(read_table(bad, "log.csv"), context("household_survey")).errors == [
            CellError(9, "任务编号", "JD001", "与第3行重复（同一任务、服务日期和开始时间）"),
            CellError(10, "任务编号", "JD001", "与第2行重复（同一任务、服务日期和开始时间）"),
            CellError(10, "调查结论", "?", "应为以下之一：符合、不符合、需复核"),
        ]


# --- prefilled rows nobody started ---------------------------------------------------------

def untouched(service_type: str) -> dict:
    """Every column but the prefilled ones emptied, as a prefilled template's row arrives."""
    return {c.header: "" for c in TEMPLATE_COLUMNS[service_type] if c not in PREFILLED_COLUMNS}


PREFILLED_ONLY = untouched("household_survey")


def test_rows_holding_only_the_prefilled_columns_are_skipped_and_counted():
    result = validate("household_survey", {}, PREFILLED_ONLY, {**PREFILLED_ONLY, "任务编号": "JD006",
                                                               "服务对象姓名": "阿依古丽·买买提", "身份证号": id_number(6)})
    assert result.accepted and result.errors == []
    assert result.skipped == 2
    assert result.records[EXCEL_ROW].tolist() == [2]


def test_a_started_row_is_checked_in_full_and_only_its_errors_are_listed():
    started = {**PREFILLED_ONLY, "备注": "下午再去"}
    result = validate("household_survey", PREFILLED_ONLY, {"家庭人口数": "三口"}, started, PREFILLED_ONLY)
    assert result.skipped == 2 and not result.accepted
    assert {error.row for error in result.errors} == {3, 4}
    assert [error.reason for error in result.errors if error.row == 3] == ["应为1到20之间的整数"]
    assert {error.column for error in result.errors if error.row == 4} == {
        "服务日期", "开始时间", "结束时间", "服务人员工号", "服务人员姓名", "家庭人口数", "家庭年收入(元)",
        "家庭金融资产(元)", "调查结论"}
    assert all(error.reason == "不能为空" for error in result.errors if error.row == 4)


def test_a_file_of_untouched_prefilled_rows_is_refused_with_the_count():
    result = validate("care_visit", untouched("care_visit"))
    assert result.errors == [CellError(2, "", "", "1 行只有预填的任务信息，没有填写服务内容")]
    assert result.skipped == 1


def test_skipping_can_be_turned_off_and_then_every_empty_cell_is_refused():
    rows = [{**GOOD["care_visit"], **untouched("care_visit")}]
    result = validate_log(read_table(csv_bytes("care_visit", rows), "log.csv"), context("care_visit"),
                          skip_unstarted=False)
    assert result.skipped == 0 and len(result.errors) == 7


def test_pieces_skip_the_same_rows_as_the_whole_file():
    rows = [PREFILLED_ONLY if i % 3 else {"开始时间": f"{8 + i}:00", "结束时间": f"{8 + i}:30"} for i in range(9)]
    data = csv_bytes("household_survey", [{**GOOD["household_survey"], **row} for row in rows])
    whole = validate_log(read_table(data, "log.csv"), context("household_survey"))
    pieces = validate_log(iter_table(data, "log.csv", chunk_rows=2), context("household_survey"))
    assert whole.skipped == pieces.skipped == 6
    pd.testing.assert_frame_equal(whole.records, pieces.records)
