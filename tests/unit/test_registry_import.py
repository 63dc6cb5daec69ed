from datetime import date

import pandas as pd

from oversight.adapters.tables.cells import EXCEL_ROW
from oversight.domain.registry_import import validate_assignments, validate_subjects
from tests.factories import valid_id_number

TODAY = date(2026, 11, 25)
ID1, ID2, ID3 = valid_id_number(1), valid_id_number(2), valid_id_number(3, birth="19400315")


def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows).fillna("").astype(str)
    table.index = pd.RangeIndex(2, 2 + len(rows), name=EXCEL_ROW)
    return table


def _subject(**overrides):
    row = {"类型": "家庭", "姓名": "钟桂兰", "身份证号": ID1, "乡镇/街道": "梅林镇", "村/社区": "梅林村",
           "类别": "低保", "联系电话": "13807970001", "家庭人口数": "3"}
    return {**row, **overrides}


def test_a_clean_subject_sheet_yields_typed_rows():
    result = validate_subjects(_table([_subject(), _subject(类型="个人", 身份证号=ID3, 类别="特困", 家庭人口数="")]),
                               set(), TODAY)
    assert result.errors == []
    assert result.rows["kind"].tolist() == ["household", "person"]
    assert result.rows["household_size"].tolist() == [3, None]


def test_every_bad_subject_cell_is_named_with_row_column_and_reason():
    rows = [
        _subject(),
        _subject(身份证号=ID1[:-1] + ("0" if ID1[-1] != "0" else "1")),  # row 3: bad check digit
        _subject(身份证号=ID2, 类别="五保"),  # row 4: unknown category
        _subject(身份证号=ID1),  # row 5: repeats row 2
        _subject(身份证号=valid_id_number(4), 联系电话="0797123"),  # row 6: bad phone
        _subject(身份证号=valid_id_number(5), 家庭人口数=""),  # row 7: household without size
    ]
    errors = {(e.row, e.column): e.reason for e in validate_subjects(_table(rows), set(), TODAY).errors}
    assert errors == {
        (3, "身份证号"): "身份证号校验位错误",
        (4, "类别"): "应为以下之一：低保、特困、低保边缘、支出型困难",
        (5, "身份证号"): "与第2行重复",
        (6, "联系电话"): "手机号应为以13–19开头的11位数字",
        (7, "家庭人口数"): "家庭类服务对象须填写家庭人口数",
    }


def test_already_registered_subjects_are_refused():
    result = validate_subjects(_table([_subject()]), {("household", ID1)}, TODAY)
    assert [(e.row, e.reason) for e in result.errors] == [(2, "该服务对象已登记")]
    assert result.rows is None


def test_missing_required_columns_are_named_at_once():
    table = _table([{"姓名": "钟桂兰", "身份证号": ID1}])
    errors = validate_subjects(table, set(), TODAY).errors
    assert len(errors) == 1 and "类型、乡镇/街道、村/社区、类别" in errors[0].reason


CONTRACTS = pd.DataFrame([{
    "code": "GX-1", "contract_id": 7, "term_start": date(2026, 1, 1), "term_end": date(2026, 12, 31),
    "service_types": frozenset({"household_survey", "care_visit"}), "visits_per_month": 2}])
SUBJECTS = pd.DataFrame([("household", ID1, 11, "钟桂兰"), ("person", ID3, 12, "曾凡荣")],
                        columns=["kind", "id_number", "subject_id", "name"])


def _assignment(**overrides):
    row = {"任务编号": "", "合同编号": "GX-1", "服务类型": "家计调查", "服务对象姓名": "钟桂兰", "身份证号": ID1,
           "截止日期": "2026年3月5日", "备注": ""}
    return {**row, **overrides}


def test_a_clean_assignment_sheet_resolves_contracts_and_subjects():
    table = _table([_assignment(), _assignment(服务类型="照料护理", 服务对象姓名="曾凡荣", 身份证号=ID3,
                                               截止日期="2026/3/31", 任务编号="RW-A1")])
    result = validate_assignments(table, contracts=CONTRACTS, subjects=SUBJECTS, taken_numbers=set(), today=TODAY)
    assert result.errors == []
    assert result.rows[["contract_id", "subject_id", "service_type", "required_visits"]].values.tolist() == [
        [7, 11, "household_survey", 1], [7, 12, "care_visit", 2]]
    assert result.rows["due_date"].tolist() == [date(2026, 3, 5), date(2026, 3, 31)]
    assert result.rows["number"].tolist() == [None, "RW-A1"]


# Households of the same name, one per row below: one household's rows would repeat its survey.
HOUSEHOLDS = {row: valid_id_number(20 + row) for row in range(4, 11)}
MANY_SUBJECTS = pd.concat([SUBJECTS, pd.DataFrame(
    [("household", number, 20 + row, "钟桂兰") for row, number in HOUSEHOLDS.items()],
    columns=["kind", "id_number", "subject_id", "name"])], ignore_index=True)


def test_every_bad_assignment_cell_is_named():
    rows = [
        _assignment(合同编号="GX-9"),  # 2: unknown contract
        _assignment(服务类型="自理能力评估", 服务对象姓名="曾凡荣", 身份证号=ID3),  # 3: contract lacks service
        _assignment(截止日期="2027-01-05", 身份证号=HOUSEHOLDS[4]),  # 4: outside term
        _assignment(服务对象姓名="钟贵兰", 身份证号=HOUSEHOLDS[5]),  # 5: name differs
        _assignment(身份证号=ID2),  # 6: subject unknown
        _assignment(任务编号="RW-1", 身份证号=HOUSEHOLDS[7]),
        _assignment(任务编号="RW-1", 身份证号=HOUSEHOLDS[8]),  # 8: duplicate number
        _assignment(任务编号="RW-OLD", 身份证号=HOUSEHOLDS[9]),  # 9: number taken
        _assignment(截止日期="2026-02-30", 身份证号=HOUSEHOLDS[10]),  # 10: no such date
    ]
    result = validate_assignments(_table(rows), contracts=CONTRACTS, subjects=MANY_SUBJECTS,
                                  taken_numbers={"RW-OLD"}, today=TODAY)
    errors = {(e.row, e.column): e.reason for e in result.errors}
    assert errors == {
        (2, "合同编号"): "合同编号不存在",
        (3, "服务类型"): "该合同不包含此项服务",
        (4, "截止日期"): "截止日期不在合同服务期内",
        (5, "服务对象姓名"): "与登记姓名「钟桂兰」不一致",
        (6, "身份证号"): "未找到该身份证号的服务对象（家计调查对应家庭，评估与照料对应个人）",
        (8, "任务编号"): "与第7行的任务编号重复",
        (9, "任务编号"): "任务编号已存在",
        (10, "截止日期"): "日期不存在",
    }
    assert result.rows is None
