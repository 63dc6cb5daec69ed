"""Which records may be corrected, and how a record reads as its completion-log row."""
from datetime import date

from oversight.domain.completion_log import TEMPLATE_COLUMNS
from oversight.domain.corrections import (
    FrozenDraw,
    LockedReview,
    changed_cells,
    correctable_columns,
    correction_blocker,
    moved_into_drawn_quarter,
    record_cells,
)
from oversight.domain.periods import quarter_of

RECORD, ASSIGNMENT = 41, 7
SPOT = FrozenDraw(12, "抽查复检", "2025Q3", frozenset({40, 41, 42}))
CALLS = FrozenDraw(13, "电话回访", "2025Q3", frozenset({40, 43}))
IDENTITY = {"number": "RW-1", "subject_name": "王秀英", "id_number": "360704195001010011", "worker_name": "李娜"}


def _review(key: str, ids, quarter="2025Q2", revision=1) -> LockedReview:
    return LockedReview(3, quarter, revision, {key: tuple(ids)})


def test_a_record_in_no_frozen_population_and_no_locked_review_may_be_corrected():
    assert correction_blocker(RECORD, ASSIGNMENT, [CALLS], [_review("completion", [8, 9]),
                                                            _review("spot_check_pass", [40])]) is None


def test_a_record_in_a_draws_frozen_population_may_not():
    why = correction_blocker(RECORD, ASSIGNMENT, [CALLS, SPOT], [])
    assert why == "该记录已进入 2025Q3 抽查复检抽样 #12 的冻结总体，抽样须能按冻结时的数据复核，不能更正"
    assert "电话回访抽样 #13" in correction_blocker(43, ASSIGNMENT, [SPOT, CALLS], [])
    assert "抽查复检抽样 #12" in correction_blocker(40, ASSIGNMENT, [CALLS, SPOT], [])  # the first draw is named


def test_a_record_counted_in_a_locked_review_through_its_assignment_or_itself_may_not():
    by_assignment = correction_blocker(RECORD, ASSIGNMENT, [], [_review("completion", [ASSIGNMENT])])
    assert by_assignment.startswith("该记录已计入已审定锁定的 2025Q2 季度考核（第1版），不能更正")
    assert correction_blocker(RECORD, ASSIGNMENT, [], [_review("timeliness", [ASSIGNMENT], "2025Q3", 2)]) \
        .startswith("该记录已计入已审定锁定的 2025Q3 季度考核（第2版）")
    assert correction_blocker(RECORD, ASSIGNMENT, [], [_review("authenticity", [RECORD])]) is not None
    # an assignment id that happens to equal a record id counted elsewhere is not the record
    assert correction_blocker(RECORD, ASSIGNMENT, [], [_review("satisfaction", [ASSIGNMENT]),
                                                       _review("completion", [RECORD])]) is None
    # the rectification indicator lists notices, not records
    assert correction_blocker(RECORD, ASSIGNMENT, [], [_review("rectification", [RECORD, ASSIGNMENT])]) is None


def test_a_pending_request_holds_further_requests_after_the_harder_reasons():
    assert correction_blocker(RECORD, ASSIGNMENT, [], [], pending_request_id=5) == \
        "该记录已有待审核的更正申请 #5，请等待审核结果"
    assert "冻结总体" in correction_blocker(RECORD, ASSIGNMENT, [SPOT], [], pending_request_id=5)


def test_a_date_may_not_move_the_record_into_a_quarter_already_drawn():
    drawn = {"2025Q3"}
    assert moved_into_drawn_quarter(date(2025, 9, 30), date(2025, 10, 2), drawn, quarter_of) == \
        "更正后的服务日期在 2025Q3，该季度已经抽样，不能把记录移入已抽样的季度"
    assert moved_into_drawn_quarter(date(2025, 10, 9), date(2025, 10, 2), drawn, quarter_of) is None
    assert moved_into_drawn_quarter(date(2025, 12, 31), date(2025, 10, 2), drawn, quarter_of) is None


def test_identity_columns_are_never_correctable_and_the_workers_name_follows_the_number():
    for service_type in TEMPLATE_COLUMNS:
        keys = [column.key for column in correctable_columns(service_type)]
        assert not {"number", "subject_name", "id_number", "worker_name"} & set(keys)
        assert keys[0] == "service_date" and keys[-1] == "remark" and "worker_no" in keys


def test_a_records_values_read_as_the_cells_a_log_would_carry():
    values = {"service_date": date(2025, 5, 10), "start_time": "09:00", "end_time": "09:45", "worker_no": "W001",
              "longitude": 114.9, "latitude": None, "remark": None, "household_size": 3,
              "annual_income_fen": 2_400_050, "wage_income_fen": None, "business_income_fen": -12_000,
              "financial_assets_fen": 0, "property_count": 1, "survey_conclusion": "符合"}
    cells = record_cells("household_survey", values, IDENTITY)
    assert cells["任务编号"] == "RW-1" and cells["服务人员姓名"] == "李娜"
    assert (cells["服务日期"], cells["开始时间"], cells["经度"], cells["纬度"], cells["备注"]) == (
        "2025-05-10", "09:00", "114.9", "", "")
    assert (cells["家庭年收入(元)"], cells["经营净收入(元)"], cells["家庭金融资产(元)"], cells["工资性收入(元)"]) == (
        "24000.50", "-120.00", "0.00", "")
    assessment = record_cells("self_care_assessment", {"eating": True, "bathing": False}, IDENTITY)
    assert (assessment["自主吃饭"], assessment["自主洗澡"]) == ("能", "不能")
    visit = record_cells("care_visit", {"signed": True, "care_items": "日常看护、生活照料",
                                        "service_date": "2025-05-10"}, IDENTITY)
    assert (visit["对象签字确认"], visit["服务项目"], visit["服务日期"]) == ("是", "日常看护、生活照料", "2025-05-10")


def test_the_changes_are_the_differing_cells_in_the_templates_order():
    before = record_cells("care_visit", {"signed": False, "care_items": "日常看护", "worker_no": "W1"}, IDENTITY)
    after = {**before, "对象签字确认": "是", "服务人员工号": "W2", "服务人员姓名": "张伟", "任务编号": "RW-2"}
    changes = changed_cells("care_visit", before, after)
    assert [(c.header, c.before, c.after) for c in changes] == [
        ("服务人员工号", "W1", "W2"), ("服务人员姓名", "李娜", "张伟"), ("对象签字确认", "否", "是")]
