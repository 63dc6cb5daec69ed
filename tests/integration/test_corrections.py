"""Corrections: request, approve (a new version, the old one kept) or refuse; the completion log's
rules; records frozen in a draw or counted in a locked review refused with the reason."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from oversight.domain.corrections import CorrectionRefused
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import (
    Attachment,
    AuditEvent,
    CompletionRecord,
    CompletionRecordVersion,
    CorrectionRequest,
    FieldWorker,
)
from oversight.services.attachments import Upload
from oversight.services.corrections import (
    CorrectionInvalid,
    approve,
    blocker,
    current_cells,
    history,
    refuse,
    request_correction,
)
from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws

from tests.attachment_support import HTML, JPEG
from tests.checks_support import AFTER_Q3, add_records
from tests.exports_support import make_review

TODAY = date(2025, 11, 20)


@pytest.fixture
def world(factory):
    ours, theirs = factory.contractor(workers=2), factory.contractor()
    contract = factory.contract(ours, service_types=("household_survey", "self_care_assessment"))
    assignment = factory.assignment(contract, due_date=date(2025, 12, 31))
    record = factory.record(assignment, service_date=date(2025, 11, 10))
    return {"contract": contract, "assignment": assignment, "record": record,
            "contractor": factory.user("contractor", ours), "other": factory.user("contractor", theirs),
            "supervisor": factory.user("supervisor"), "auditor": factory.user("auditor")}


def ask(world, cells, reason="入户时记错了家庭人口", uploads=(), record=None, user=None):
    request = request_correction(record or world["record"], user or world["contractor"], cells, reason, TODAY,
                                 uploads)
    db.session.commit()
    return request


def stored(record) -> CompletionRecord:
    db.session.expire_all()
    return db.session.get(CompletionRecord, record.id)


def test_an_approved_correction_stores_a_new_version_and_keeps_the_old_one(world):
    record, supervisor = world["record"], world["supervisor"]
    request = ask(world, {"家庭人口数": "4"}, uploads=[Upload("户口簿.jpg", JPEG)])
    assert (request.status, request.contract_id) == ("pending", world["contract"].id)
    assert request.changes == [{"key": "household_size", "header": "家庭人口数", "before": "3", "after": "4"}]
    assert stored(record).household_size == 3  # nothing changes before the decision
    (photo,) = db.session.execute(select(Attachment)).scalars()
    assert (photo.owner_type, photo.owner_id) == ("correction_request", request.id)

    version = approve(request, supervisor, TODAY, note="与户口簿一致")
    db.session.commit()
    now = stored(record)
    assert (now.household_size, now.per_capita_monthly_income_fen) == (4, 50_000)  # 24000 元 / 4 人 / 12 月
    assert (request.status, request.decided_by_id, request.decision_note) == ("approved", supervisor.id, "与户口簿一致")
    first, second = db.session.execute(select(CompletionRecordVersion).order_by(CompletionRecordVersion.version)).scalars()
    assert (first.version, first.correction_id, first.values["household_size"]) == (1, None, 3)
    assert first.values["per_capita_monthly_income_fen"] == 66_667 and first.values["service_date"] == "2025-11-10"
    assert (second.id, second.version, second.correction_id, second.values["household_size"]) == (
        version.id, 2, request.id, 4)
    shown = history(now)
    assert [(v.number, v.cells["家庭人口数"], v.changed, v.current) for v in shown] == [
        (1, "3", frozenset(), False), (2, "4", frozenset({"家庭人口数"}), True)]
    assert shown[1].correction.id == request.id
    audited = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "CompletionRecord",
                                                          AuditEvent.action == "update")).scalar_one()
    assert audited.changes["household_size"] == {"before": 3, "after": 4}


def test_a_second_correction_adds_a_third_version(world):
    approve(ask(world, {"家庭人口数": "4"}), world["supervisor"], TODAY)
    db.session.commit()
    approve(ask(world, {"备注": "补记：户主外出务工", "服务人员工号": world["contract"].contractor.workers[1].worker_no},
                reason="备注漏填，服务人员填错"), world["supervisor"], TODAY)
    db.session.commit()
    record = stored(world["record"])
    second_worker = db.session.execute(select(FieldWorker).where(
        FieldWorker.contractor_id == world["contract"].contractor_id).order_by(FieldWorker.id)).scalars().all()[1]
    assert (record.remark, record.worker_id, record.household_size) == ("补记：户主外出务工", second_worker.id, 4)
    versions = history(record)
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[2].changed == {"服务人员工号", "服务人员姓名", "备注"}
    assert versions[2].cells["服务人员姓名"] == second_worker.name and versions[1].cells["备注"] == ""


def test_a_refused_correction_changes_nothing_and_needs_a_reason(world):
    request = ask(world, {"家庭人口数": "4"})
    with pytest.raises(CorrectionRefused, match="请写明驳回理由"):
        refuse(request, world["supervisor"], "  ")
    refuse(request, world["supervisor"], "户口簿显示为3人")
    db.session.commit()
    assert (request.status, request.decision_note) == ("refused", "户口簿显示为3人")
    assert stored(world["record"]).household_size == 3
    assert db.session.execute(select(CompletionRecordVersion)).first() is None
    with pytest.raises(CorrectionRefused, match="已驳回，不能再审核"):
        approve(request, world["supervisor"], TODAY)
    assert ask(world, {"家庭人口数": "5"}).status == "pending"  # a refused request holds nothing up


@pytest.mark.parametrize(("cells", "message"), [
    ({"家庭人口数": "0"}, "家庭人口数："),
    ({"结束时间": "08:30"}, "结束时间：结束时间应晚于开始时间"),
    ({"服务日期": "2025-12-01"}, "服务日期：服务日期不能晚于今天（2025-11-20）"),
    ({"工资性收入(元)": "1000"}, "家庭年收入(元)：各项收入合计1,000.00元，与家庭年收入相差超过1元"),
    ({"调查结论": "可以"}, "调查结论："),
    ({"服务人员工号": "NOBODY"}, "服务人员工号：该工号不是本承接主体登记的服务人员"),
])
def test_corrected_values_are_checked_by_the_completion_logs_rules(world, cells, message):
    with pytest.raises(CorrectionInvalid, match=re.escape(message)):
        ask(world, cells)
    db.session.rollback()
    assert db.session.execute(select(CorrectionRequest)).first() is None


def test_a_self_care_item_corrected_alone_must_agree_with_the_stated_conclusion(world, factory):
    assessment = factory.assignment(world["contract"], service_type="self_care_assessment", due_date=date(2025, 12, 31))
    record = factory.record(assessment, service_date=date(2025, 11, 12))
    both = {"自主吃饭": "不能", "自主穿衣": "不能"}
    with pytest.raises(CorrectionInvalid, match="评估结论：按六项指标（4项未达到）应为「完全丧失生活自理能力」"):
        ask(world, both, record=record)
    db.session.rollback()
    request = ask(world, {**both, "评估结论": "完全丧失生活自理能力"}, record=record)
    assert [change["header"] for change in request.changes] == ["自主吃饭", "自主穿衣", "评估结论"]
    approve(request, world["supervisor"], TODAY)
    db.session.commit()
    assert (stored(record).eating, stored(record).fails, stored(record).conclusion) == (False, 4, "完全丧失生活自理能力")


def test_a_correction_may_not_collide_with_another_visit_but_keeps_its_own_time(world, factory):
    factory.record(world["assignment"], service_date=date(2025, 11, 10), start_time="14:00", end_time="14:40")
    with pytest.raises(CorrectionInvalid, match="与已保存的记录重复"):
        ask(world, {"开始时间": "14:00", "结束时间": "14:50"})
    db.session.rollback()
    assert ask(world, {"结束时间": "09:50"}).changes[0]["after"] == "09:50"


def test_nothing_changed_is_no_request(world):
    with pytest.raises(CorrectionRefused, match="没有更正任何内容"):
        ask(world, {"家庭人口数": "3", "家庭年收入(元)": "24000", "任务编号": "RW-OTHER"})


def test_only_the_records_contractor_asks_and_only_the_bureau_decides(world):
    with pytest.raises(CorrectionRefused, match="请写明更正原因"):
        ask(world, {"备注": "x"}, reason=" ")
    for user in ("other", "supervisor", "auditor"):
        with pytest.raises(CorrectionRefused, match="只有本合同承接机构的人员"):
            ask(world, {"家庭人口数": "4"}, user=world[user])
    request = ask(world, {"家庭人口数": "4"})
    with pytest.raises(CorrectionRefused, match="只有监管人员可以审核"):
        approve(request, world["contractor"], TODAY)


def test_one_pending_request_per_record_and_a_refused_file_refuses_the_request(world):
    with pytest.raises(CorrectionRefused, match="内容不是 JPG 文件"):
        ask(world, {"家庭人口数": "4"}, uploads=[Upload("证明.jpg", HTML)])
    db.session.rollback()
    assert db.session.execute(select(CorrectionRequest)).first() is None
    first = ask(world, {"家庭人口数": "4"})
    with pytest.raises(CorrectionRefused, match=f"该记录已有待审核的更正申请 #{first.id}"):
        ask(world, {"备注": "另一处"})


@pytest.fixture
def drawn(factory, world):
    """Q3 2025 records of the contract, with a spot-check draw that froze them."""
    records = add_records(world["contract"], {0: 12})
    make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=world["contract"].id, seed="c")
    db.session.commit()
    return records


def test_a_record_in_a_draws_frozen_population_cannot_be_corrected(world, drawn):
    why = blocker(drawn[0])
    assert why.startswith("该记录已进入 2025Q3 抽查复检抽样 #") and why.endswith("的冻结总体，抽样须能按冻结时的数据复核，不能更正")
    with pytest.raises(CorrectionRefused, match="冻结总体"):
        ask(world, {"家庭人口数": "4"}, record=drawn[0])


def test_a_date_may_not_move_into_a_drawn_quarter(world, drawn):
    with pytest.raises(CorrectionRefused, match="更正后的服务日期在 2025Q3，该季度已经抽样"):
        ask(world, {"服务日期": "2025-09-30"})


def test_a_draw_made_after_the_request_stops_its_approval(world, factory):
    records = add_records(world["contract"], {0: 6}, first_day=date(2025, 10, 1))
    request = ask(world, {"家庭人口数": "4"}, record=records[0])
    make_draws(CALLBACK, Quarter(2025, 4), today=date(2026, 1, 10), contract_id=world["contract"].id, seed="d")
    db.session.commit()
    with pytest.raises(CorrectionRefused, match="不能批准：该记录已进入 2025Q4 电话回访抽样"):
        approve(request, world["supervisor"], TODAY)
    refuse(request, world["supervisor"], "已进入回访抽样")
    db.session.commit()
    assert request.status == "refused"


def test_a_record_counted_in_a_locked_review_cannot_be_corrected(world):
    make_review(world["contract"], "2025Q4", status="approved", record_ids=(world["assignment"].id,))
    why = blocker(world["record"])
    assert why.startswith("该记录已计入已审定锁定的 2025Q4 季度考核（第1版），不能更正")
    with pytest.raises(CorrectionRefused, match="已审定锁定"):
        ask(world, {"家庭人口数": "4"})


def test_a_draft_review_counting_the_record_does_not_stop_a_correction(world):
    make_review(world["contract"], "2025Q4", status="draft", record_ids=(world["assignment"].id,))
    assert blocker(world["record"]) is None
    assert current_cells(world["record"])["家庭人口数"] == "3"


def test_the_audit_bundle_lists_the_years_corrections_and_the_versions_they_left(world, tmp_path, factory):
    from tests.integration.test_audit_bundle import _csv_rows

    from oversight.exports import bundle

    approve(ask(world, {"家庭人口数": "4"}), world["supervisor"], TODAY)
    db.session.commit()
    path = tmp_path / "audit.zip"
    with bundle.consistent_snapshot():  # the record's year, whenever it was corrected
        bundle.build_audit_bundle(2025, path, full=False, exported_by=factory.user("admin"))
    (row,) = _csv_rows(path, "records/correction_requests.csv")
    assert (row["状态"], row["更正内容"], row["更正原因"]) == ("已批准", "家庭人口数：3 → 4", "入户时记错了家庭人口")
    versions = _csv_rows(path, "records/record_versions.csv")
    assert [(v["服务记录ID"], v["版本"]) for v in versions] == [(str(world["record"].id), "1"), (str(world["record"].id), "2")]
    assert bundle.verify_bundle(path).ok
