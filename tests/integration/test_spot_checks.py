"""Spot checks: blind re-check saved with its comparison, attachments, rectification notices."""
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Attachment, RectificationNotice, SpotCheck
from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws
from oversight.services.spot_checks import (
    MAX_ATTACHMENT_BYTES,
    NOTICE_UNCLOSED,
    SpotCheckError,
    Upload,
    assign_items,
    close_notice,
    closed_on_time,
    issue_notice,
    notice_overdue,
    notices_query,
    pending_items,
    record_spot_check,
    reported_values,
    respond_notice,
)

from tests.checks_support import AFTER_Q3, add_records

TODAY = date(2025, 10, 20)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"0" * 100


def drawn_items(contract, purpose=SPOT_CHECK):
    outcome = make_draws(purpose, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="s")
    db.session.commit()
    return outcome.draws[0].items


@pytest.fixture
def household(factory):
    """A household-survey contract with a drawn quarter and a supervisor."""
    contract = factory.contract(factory.contractor(workers=2))
    add_records(contract, {0: 20, 1: 10}, annual_income_fen=2_400_000, financial_assets_fen=300_000,
                household_size=3, survey_conclusion="符合")
    return {"contract": contract, "items": drawn_items(contract), "supervisor": factory.user("supervisor")}


def recheck(item, checker, values, uploads=(), tmp_path=Path("/nonexistent"), **kwargs):
    check = record_spot_check(item, checker=checker, method=kwargs.pop("method", "入户复核"),
                              checked_on=kwargs.pop("checked_on", date(2025, 10, 16)), values=values,
                              note=None, uploads=list(uploads), store=LocalFileStore(tmp_path), today=TODAY, **kwargs)
    db.session.commit()
    return check


SAME = {"household_size": 3, "annual_income_fen": 2_400_000, "financial_assets_fen": 300_000,
        "survey_conclusion": "符合"}


def test_the_contractors_values_are_read_in_the_comparisons_keys(factory):
    contract = factory.contract(factory.contractor(), service_types=("household_survey", "care_visit",
                                                                     "self_care_assessment"))
    survey, = add_records(contract, {0: 1})
    visit, = add_records(contract, {0: 1}, service_type="care_visit", care_items="生活照料、日常看护")
    assessment, = add_records(contract, {0: 1}, service_type="self_care_assessment")
    assert reported_values(survey) == SAME | {"financial_assets_fen": 500_000}
    assert reported_values(visit) == {"visit_happened": True, "care_items": frozenset({"日常看护", "生活照料"})}
    assert reported_values(assessment) == {"eating": True, "dressing": True, "transfer": True, "toileting": False,
                                           "walking": True, "bathing": False}


def test_a_matching_recheck_passes_and_stores_its_comparison(household):
    check = recheck(household["items"][0], household["supervisor"], SAME)
    assert check.passed and (check.fields_compared, check.fields_differing) == (4, 0)
    assert check.comparison["reason"] == "合格"
    assert check.values == SAME
    assert check.contract_id == household["contract"].id


@pytest.mark.parametrize(("income", "differs"), [
    (2_640_000, False),  # exactly +10 % of 24,000 yuan: within tolerance
    (2_640_001, True),  # one fen more
    (2_160_000, False),  # exactly −10 %
    (2_159_999, True),
])
def test_income_is_compared_within_ten_percent_to_the_fen(household, income, differs):
    check = recheck(household["items"][0], household["supervisor"], SAME | {"annual_income_fen": income})
    field = next(f for f in check.comparison["fields"] if f["key"] == "annual_income_fen")
    assert field["matches"] is (not differs)
    assert check.passed  # one non-critical difference alone does not fail the record


@pytest.mark.parametrize(("assets", "differs"), [(350_000, False), (350_001, True), (250_000, False)])
def test_small_assets_are_compared_within_five_hundred_yuan(household, assets, differs):
    check = recheck(household["items"][0], household["supervisor"], SAME | {"financial_assets_fen": assets})
    assert check.fields_differing == int(differs)


def test_two_differing_fields_or_a_different_conclusion_fail(household):
    items, supervisor = household["items"], household["supervisor"]
    two = recheck(items[0], supervisor, SAME | {"household_size": 4, "financial_assets_fen": 900_000})
    conclusion = recheck(items[1], supervisor, SAME | {"survey_conclusion": "不符合"})
    assert not two.passed and two.fields_differing == 2
    assert not conclusion.passed and "关键字段不一致（调查结论）" in conclusion.comparison["reason"]


def test_fields_left_blank_are_not_compared(household):
    check = recheck(household["items"][0], household["supervisor"],
                    {"household_size": 3, "annual_income_fen": None, "financial_assets_fen": None,
                     "survey_conclusion": None})
    assert (check.fields_compared, check.passed) == (1, True)
    assert check.values == {"household_size": 3}


def test_a_recheck_with_nothing_recorded_is_refused(household):
    with pytest.raises(SpotCheckError, match="没有可比对的字段"):
        recheck(household["items"][0], household["supervisor"], {"household_size": None})


def test_a_care_visit_that_did_not_happen_fails_on_the_critical_field(factory):
    contract = factory.contract(factory.contractor(), service_types=("care_visit",))
    add_records(contract, {0: 10}, service_type="care_visit")
    item = drawn_items(contract)[0]
    check = recheck(item, factory.user("supervisor"), {"visit_happened": False})
    assert not check.passed and "服务是否发生" in check.comparison["reason"]
    other = recheck(drawn_items_next(item), factory.user("supervisor"),
                    {"visit_happened": True, "care_items": ["日常看护", "生活照料"]})
    assert other.passed and other.values["care_items"] == ["日常看护", "生活照料"]


def drawn_items_next(item):
    return next(i for i in item.draw.items if i.id != item.id)


def test_a_self_care_item_that_changes_the_conclusion_fails(factory):
    contract = factory.contract(factory.contractor(), service_types=("self_care_assessment",))
    add_records(contract, {0: 10}, service_type="self_care_assessment")
    item = drawn_items(contract)[0]
    # Reported: toileting and bathing not met (部分丧失). One item off keeps the conclusion and passes;
    # both off makes it 具备, so the critical conclusion differs too.
    one_off = {"eating": True, "dressing": True, "transfer": True, "toileting": True, "walking": True,
               "bathing": False}
    check = recheck(item, factory.user("supervisor"), one_off)
    assert (check.fields_compared, check.fields_differing, check.passed) == (7, 1, True)
    check = recheck(drawn_items_next(item), factory.user("supervisor"), one_off | {"bathing": True})
    assert (check.fields_differing, check.passed) == (3, False)
    assert "关键字段不一致（评估结论）" in check.comparison["reason"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"checked_on": date(2025, 10, 21)}, "不能晚于今天"),
    ({"checked_on": date(2025, 6, 30)}, "不能早于服务日期"),
    ({"method": "上网查询"}, "复核方式"),
])
def test_impossible_rechecks_are_refused(household, kwargs, message):
    with pytest.raises(SpotCheckError, match=message):
        recheck(household["items"][0], household["supervisor"], SAME, **kwargs)


def test_a_record_is_rechecked_once_by_staff_only(household, factory):
    item = household["items"][0]
    with pytest.raises(SpotCheckError, match="只有监管人员"):
        recheck(item, factory.user("auditor"), SAME)
    recheck(item, household["supervisor"], SAME)
    with pytest.raises(SpotCheckError, match="不能重复录入"):
        recheck(item, household["supervisor"], SAME)


def test_an_item_assigned_to_another_supervisor_is_theirs(household, factory):
    item, other = household["items"][0], factory.user("supervisor")
    assert assign_items(item.draw, [item.id], other) == 1
    db.session.commit()
    with pytest.raises(SpotCheckError, match="已分派给其他监管人员"):
        recheck(item, household["supervisor"], SAME)
    assert recheck(item, factory.user("admin"), SAME).passed


def test_assignment_lists_the_pending_items_of_each_supervisor(household):
    items, supervisor = household["items"], household["supervisor"]
    assign_items(items[0].draw, [items[0].id, items[1].id], supervisor)
    db.session.commit()
    assert [i.id for i in db.session.execute(pending_items(supervisor.id)).scalars()] == [items[0].id, items[1].id]
    recheck(items[0], supervisor, SAME)
    assert [i.id for i in db.session.execute(pending_items(supervisor.id)).scalars()] == [items[1].id]
    assert len(db.session.execute(pending_items()).scalars().all()) == len(items) - 1


def test_callback_items_are_not_spot_checked(factory):
    contract = factory.contract()
    add_records(contract, {0: 10})
    item = drawn_items(contract, CALLBACK)[0]
    with pytest.raises(SpotCheckError, match="电话回访"):
        recheck(item, factory.user("supervisor"), SAME)


def test_attachments_are_stored_by_content_hash_with_size_and_type(household, tmp_path):
    check = recheck(household["items"][0], household["supervisor"], SAME,
                    uploads=[Upload("入户照片.JPG", JPEG), Upload("扫描件.pdf", PDF)], tmp_path=tmp_path)
    photo, scan = check.attachments
    assert (photo.filename, photo.content_type, photo.size_bytes) == ("入户照片.JPG", "image/jpeg", len(JPEG))
    assert scan.content_type == "application/pdf"
    assert (tmp_path / photo.stored_path).read_bytes() == JPEG
    assert photo.stored_path.startswith(f"attachments/{check.id}/") and photo.stored_path.endswith(".jpg")


@pytest.mark.parametrize(("upload", "message"), [
    (Upload("photo.jpg", b"GIF89a not a jpeg"), "不是 JPG"),
    (Upload("photo.png", JPEG), "不是 PNG"),
    (Upload("report.exe", b"MZ\x90\x00"), "类型不支持"),
    (Upload("noext", PDF), "类型不支持"),
    (Upload("empty.pdf", b""), "空文件"),
    (Upload("huge.png", PNG + b"\x00" * MAX_ATTACHMENT_BYTES), "超过 10 MB"),
])
def test_a_bad_attachment_refuses_the_whole_recheck(household, tmp_path, upload, message):
    with pytest.raises(SpotCheckError, match=message):
        recheck(household["items"][0], household["supervisor"], SAME,
                uploads=[Upload("ok.png", PNG), upload], tmp_path=tmp_path)
    db.session.rollback()
    assert db.session.execute(select(SpotCheck)).first() is None
    assert db.session.execute(select(Attachment)).first() is None
    assert not (tmp_path / "attachments").exists()


@pytest.fixture
def failed(household):
    check = recheck(household["items"][0], household["supervisor"], SAME | {"survey_conclusion": "不符合"})
    return {**household, "check": check}


def test_a_failed_check_gets_a_notice_the_contractor_answers_and_the_supervisor_closes(failed, factory):
    check, supervisor = failed["check"], failed["supervisor"]
    notice = issue_notice(check, deadline=date(2025, 11, 5), requirement="请更正调查结论", issuer=supervisor, today=TODAY)
    db.session.commit()
    assert (notice.status, notice.contract_id) == ("open", check.contract_id)
    contractor_user = factory.user("contractor", failed["contract"].contractor)
    respond_notice(notice, response="已重新入户调查并更正结论", user=contractor_user)
    assert notice.status == "responded" and notice.responded_by_id == contractor_user.id
    close_notice(notice, outcome="accepted", note="核实无误", user=supervisor)
    db.session.commit()
    assert (notice.status, notice.outcome, notice.closed_by_id) == ("closed", "accepted", supervisor.id)
    with pytest.raises(SpotCheckError, match="已关闭"):
        respond_notice(notice, response="补充", user=contractor_user)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"deadline": TODAY}, "应晚于今天"),
    ({"requirement": "  "}, "请填写整改要求"),
])
def test_a_notice_needs_a_future_deadline_and_a_requirement(failed, kwargs, message):
    arguments = {"deadline": date(2025, 11, 5), "requirement": "整改", **kwargs}
    with pytest.raises(SpotCheckError, match=message):
        issue_notice(failed["check"], issuer=failed["supervisor"], today=TODAY, **arguments)


def test_a_passed_check_gets_no_notice_and_a_failed_one_only_one(household, failed):
    passed = recheck(household["items"][1], household["supervisor"], SAME)
    with pytest.raises(SpotCheckError, match="无需整改"):
        issue_notice(passed, deadline=date(2025, 11, 5), requirement="x", issuer=household["supervisor"], today=TODAY)
    issue_notice(failed["check"], deadline=date(2025, 11, 5), requirement="x", issuer=household["supervisor"],
                 today=TODAY)
    with pytest.raises(SpotCheckError, match="已发出"):
        issue_notice(failed["check"], deadline=date(2025, 11, 6), requirement="y", issuer=household["supervisor"],
                     today=TODAY)


def test_a_notice_cannot_be_accepted_before_the_contractor_answers(failed):
    notice = issue_notice(failed["check"], deadline=date(2025, 11, 5), requirement="x", issuer=failed["supervisor"],
                          today=TODAY)
    with pytest.raises(SpotCheckError, match="尚未回复"):
        close_notice(notice, outcome="accepted", note=None, user=failed["supervisor"])
    close_notice(notice, outcome="not_accepted", note="逾期未整改", user=failed["supervisor"])
    assert notice.outcome == "not_accepted" and not closed_on_time(notice)


def test_overdue_and_on_time_follow_the_deadline_in_china_time(failed):
    notice = issue_notice(failed["check"], deadline=date(2025, 11, 5), requirement="x", issuer=failed["supervisor"],
                          today=TODAY)
    assert not notice_overdue(notice, date(2025, 11, 5))
    assert notice_overdue(notice, date(2025, 11, 6))
    notice.responded_at = datetime(2025, 11, 5, 16, 0)  # answered on the 6th, China time: late
    assert notice_overdue(notice, date(2025, 11, 6))
    notice.responded_at = datetime(2025, 11, 5, 15, 0)  # answered in time: the supervisor's turn
    assert not notice_overdue(notice, date(2025, 11, 6))
    notice.status, notice.outcome = "closed", "accepted"
    notice.closed_at = datetime(2025, 11, 5, 15, 59)  # 23:59 on the 5th in China
    assert closed_on_time(notice) and not notice_overdue(notice, date(2025, 11, 6))
    notice.closed_at = datetime(2025, 11, 5, 16, 0)  # already the 6th in China
    assert not closed_on_time(notice)
    assert db.session.execute(select(RectificationNotice)).scalar_one() is notice


def test_the_overdue_list_filter_agrees_with_notice_overdue(failed):
    notice = issue_notice(failed["check"], deadline=date(2025, 11, 5), requirement="x", issuer=failed["supervisor"],
                          today=TODAY)
    db.session.commit()

    def listed(day: date) -> bool:
        return db.session.execute(notices_query(overdue_on=day)).scalars().all() == [notice]

    cases = [(None, "open", date(2025, 11, 5)), (None, "open", date(2025, 11, 6)),
             (datetime(2025, 11, 5, 16, 0), "responded", date(2025, 11, 6)),  # the 6th in China: late
             (datetime(2025, 11, 5, 15, 59, 59), "responded", date(2025, 11, 6)),  # 23:59:59 on the 5th
             (datetime(2025, 11, 5, 15, 0), "closed", date(2025, 11, 20))]
    found = []
    for responded_at, status, day in cases:
        notice.responded_at, notice.status = responded_at, status
        db.session.commit()
        found.append(listed(day))
        assert found[-1] == notice_overdue(notice, day), (responded_at, status, day)
    assert found == [False, True, True, False, False]
    notice.status = "open"
    db.session.commit()
    assert db.session.execute(notices_query(status=NOTICE_UNCLOSED)).scalars().all() == [notice]
    notice.status = "closed"
    db.session.commit()
    assert db.session.execute(notices_query(status=NOTICE_UNCLOSED)).scalars().all() == []
