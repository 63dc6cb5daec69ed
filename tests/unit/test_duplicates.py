"""Which assignments repeat an open one (issue 10.10)."""
from datetime import date

import pandas as pd

from oversight.adapters.tables.cells import EXCEL_ROW
from oversight.domain.duplicates import duplicate_key, duplicate_period
from oversight.domain.registry_import import validate_assignments
from tests.factories import valid_id_number

TODAY = date(2026, 3, 2)
HOUSEHOLD, PERSON = valid_id_number(1), valid_id_number(2, birth="19400315")
CONTRACTS = pd.DataFrame([{
    "code": "GX-1", "contract_id": 7, "term_start": date(2026, 1, 1), "term_end": date(2026, 12, 31),
    "service_types": frozenset({"household_survey", "care_visit"}), "visits_per_month": 2}])
SUBJECTS = pd.DataFrame([("household", HOUSEHOLD, 11, "钟桂兰"), ("person", PERSON, 12, "曾凡荣")],
                        columns=["kind", "id_number", "subject_id", "name"])
OPEN = pd.DataFrame([(7, 11, "household_survey", date(2026, 1, 31), "RW-OPEN-1"),
                     (7, 12, "care_visit", date(2026, 2, 28), "RW-OPEN-2")],
                    columns=["contract_id", "subject_id", "service_type", "due_date", "number"])


def _table(rows):
    table = pd.DataFrame([{"合同编号": "GX-1", "服务类型": service, "服务对象姓名": name, "身份证号": number,
                           "截止日期": due} for service, name, number, due in rows]).astype(str)
    table.index = pd.RangeIndex(2, 2 + len(rows), name=EXCEL_ROW)
    return table


def test_care_visits_are_one_piece_of_work_per_month_and_other_services_per_contract():
    assert duplicate_period("care_visit", date(2026, 3, 31)) == "2026-03"
    assert duplicate_period("household_survey", date(2026, 3, 31)) == ""
    assert duplicate_key(7, 11, "household_survey", date(2026, 1, 1)) == duplicate_key(7, 11, "household_survey",
                                                                                       date(2026, 12, 1))
    assert duplicate_key(7, 12, "care_visit", date(2026, 3, 1)) != duplicate_key(7, 12, "care_visit", date(2026, 4, 1))


def test_a_row_repeating_an_open_assignment_names_it():
    rows = [("家计调查", "钟桂兰", HOUSEHOLD, "2026-06-30"),  # repeats RW-OPEN-1
            ("照料护理", "曾凡荣", PERSON, "2026-02-15"),  # repeats RW-OPEN-2 (same month)
            ("照料护理", "曾凡荣", PERSON, "2026-03-31"),  # next month: new work
            ("照料护理", "曾凡荣", PERSON, "2026-03-20")]  # repeats row 4
    result = validate_assignments(_table(rows), contracts=CONTRACTS, subjects=SUBJECTS, taken_numbers=set(),
                                  today=TODAY, open_assignments=OPEN)
    assert result.rows is None
    assert {(e.row, e.column): e.reason for e in result.errors} == {
        (2, "身份证号"): "该服务对象在本合同已有未完成的家计调查任务 RW-OPEN-1（截止 2026-01-31），不能重复派发",
        (3, "身份证号"): "该服务对象在本合同已有未完成的照料护理任务 RW-OPEN-2（截止 2026-02-28），不能重复派发",
        (5, "身份证号"): "与第4行重复派发：同一合同的同一服务对象同一服务只能有一项未完成任务",
    }


def test_without_open_assignments_distinct_work_passes():
    rows = [("家计调查", "钟桂兰", HOUSEHOLD, "2026-06-30"), ("照料护理", "曾凡荣", PERSON, "2026-03-31"),
            ("照料护理", "曾凡荣", PERSON, "2026-04-30")]
    result = validate_assignments(_table(rows), contracts=CONTRACTS, subjects=SUBJECTS, taken_numbers=set(),
                                  today=TODAY, open_assignments=OPEN.iloc[:0])
    assert result.errors == [] and len(result.rows) == 3
