"""A second open assignment of the same work is refused, wherever it is issued (issue 10.10)."""
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.services.areas import home_county
from oversight.models import Assignment
from oversight.services.assignments import AssignmentError, DuplicateAssignment, issue_assignment
from oversight.services.bulk_import import import_assignments
from oversight.services.maintenance import issue_care_visits

TODAY = date(2026, 3, 2)
HEADERS = ["任务编号", "合同编号", "服务类型", "服务对象姓名", "身份证号", "截止日期"]


def _sheet(rows) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count() -> int:
    return db.session.execute(select(func.count()).select_from(Assignment)).scalar_one()


@pytest.fixture
def survey(factory):
    contract = factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31), code="GX-2026-D")
    return contract, factory.subject("household", name="钟桂兰")


def test_a_second_open_survey_of_a_household_is_refused_naming_the_open_one(survey):
    contract, household = survey
    first = issue_assignment(contract, household, "household_survey", date(2026, 6, 30), None, TODAY)
    with pytest.raises(DuplicateAssignment) as refused:
        issue_assignment(contract, household, "household_survey", date(2026, 9, 30), None, TODAY)
    assert refused.value.existing.id == first.id
    assert first.number in str(refused.value) and "不能重复派发" in str(refused.value)
    assert _count() == 1


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_closed_assignment_does_not_block_the_next_one(survey, status):
    contract, household = survey
    first = issue_assignment(contract, household, "household_survey", date(2026, 6, 30), None, TODAY)
    first.status = status
    db.session.flush()
    issue_assignment(contract, household, "household_survey", date(2026, 9, 30), None, TODAY)
    assert _count() == 2


def test_an_overdue_assignment_is_still_open(survey):
    contract, household = survey
    first = issue_assignment(contract, household, "household_survey", date(2026, 6, 30), None, TODAY)
    first.status = "overdue"
    db.session.flush()
    with pytest.raises(AssignmentError, match=first.number):
        issue_assignment(contract, household, "household_survey", date(2026, 9, 30), None, TODAY)


def test_another_contract_or_service_is_not_a_repeat(factory, survey):
    contract, household = survey
    other = factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31))
    issue_assignment(contract, household, "household_survey", date(2026, 6, 30), None, TODAY)
    issue_assignment(other, household, "household_survey", date(2026, 6, 30), None, TODAY)
    assert _count() == 2


def test_care_visits_repeat_only_within_their_month(factory):
    contract = factory.contract(service_types=("care_visit",), term_start=date(2026, 1, 1),
                                term_end=date(2026, 12, 31))
    person = factory.subject("person")
    march = issue_assignment(contract, person, "care_visit", date(2026, 3, 31), None, TODAY)
    march.status = "overdue"
    db.session.flush()
    issue_assignment(contract, person, "care_visit", date(2026, 4, 30), None, TODAY)
    with pytest.raises(DuplicateAssignment, match=march.number):
        issue_assignment(contract, person, "care_visit", date(2026, 3, 20), None, TODAY)
    assert _count() == 2


def test_the_monthly_job_issues_no_second_visit_for_a_month(factory):
    contract = factory.contract(service_types=("care_visit",), term_start=date(2026, 1, 1),
                                term_end=date(2026, 12, 31))
    person = factory.subject("person")
    factory.assignment(contract, person, "care_visit", due_date=date(2026, 2, 28), status="completed")
    factory.assignment(contract, person, "care_visit", due_date=date(2026, 3, 15))
    assert issue_care_visits("2026-03", TODAY) == 0
    assert _count() == 2


def test_a_sheet_repeating_an_open_assignment_is_refused_whole(survey):
    contract, household = survey
    open_one = issue_assignment(contract, household, "household_survey", date(2026, 6, 30), None, TODAY)
    db.session.commit()
    data = _sheet([["", "GX-2026-D", "家计调查", "钟桂兰", household.id_number, "2026-09-30"]])
    outcome = import_assignments(data, "任务.xlsx", TODAY, [home_county().id])
    assert outcome.status == "rejected"
    [error] = outcome.errors
    assert (error.row, error.column) == (2, "身份证号")
    assert open_one.number in error.reason and "不能重复派发" in error.reason
    db.session.rollback()
    assert _count() == 1


def test_two_rows_of_the_same_work_in_one_sheet_are_refused(factory, survey):
    contract, household = survey
    other = factory.subject("household", name="曾凡荣")
    data = _sheet([["", "GX-2026-D", "家计调查", "钟桂兰", household.id_number, "2026-06-30"],
                   ["", "GX-2026-D", "家计调查", "曾凡荣", other.id_number, "2026-06-30"],
                   ["", "GX-2026-D", "家计调查", "钟桂兰", household.id_number, "2026-09-30"]])
    outcome = import_assignments(data, "任务.xlsx", TODAY, [home_county().id])
    assert outcome.status == "rejected"
    assert [(e.row, e.column) for e in outcome.errors] == [(4, "身份证号")]
    assert "与第2行重复派发" in outcome.errors[0].reason
    db.session.rollback()
    assert _count() == 0
