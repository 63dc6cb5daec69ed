"""Completion-log import through the database: every SPEC section 4 rule, encodings and date
forms, all or nothing, duplicates, ownership, completed assignments, anomaly flags, audit."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters.bulk_sql import RawInsert
from oversight.adapters.files import uploads_store
from oversight.adapters.tables.marked import HIGHLIGHT_RGB, REASON_HEADER
from oversight.extensions import db
from oversight.models import Assignment, AuditEvent, CompletionRecord, FieldWorker, UploadBatch
from oversight.services import completion_import
from oversight.services.completion_import import FAILED_MESSAGE, ImportRefused, error_dict, skipped_note, start_import
from oversight.services.completion_records import log_template
from oversight.services.jobs import process_name
from oversight.tasks import import_later
from tests.completion_support import (
    CARE,
    SELF_CARE,
    SURVEY,
    TODAY,
    csv_bytes,
    database_state,
    fill_template,
    good_row,
    upload,
    world,  # noqa: F401  (fixture)
    xlsx_bytes,
)
from tests.store_support import FULL_DISK, failing_store


def records() -> list[CompletionRecord]:
    return db.session.execute(select(CompletionRecord).order_by(CompletionRecord.id)).scalars().all()


def statuses(assignments) -> list[str]:
    return [db.session.get(Assignment, a.id, populate_existing=True).status for a in assignments]


def two_rows(world, service_type, **bad) -> bytes:
    """A log whose second data row (Excel row 3) carries the changes."""
    return csv_bytes(service_type, [good_row(world, service_type, 0), good_row(world, service_type, 1, **bad)])


# --- every rule of SPEC section 4 ----------------------------------------------------------

RULES = [
    # (id, service, changes of row 3 (a function of the world), column, reason)
    ("unknown number", SURVEY, lambda w: {"任务编号": "RW19990101-000001"}, "任务编号", "本合同中没有该任务编号"),
    ("blank number", SURVEY, lambda w: {"任务编号": ""}, "任务编号", "不能为空"),
    ("cancelled assignment", SURVEY, lambda w: {"任务编号": w.cancelled.number, "服务对象姓名": w.cancelled.subject.name,
                                                "身份证号": w.cancelled.subject.id_number}, "任务编号", "该任务已取消"),
    ("other service's assignment", CARE, lambda w: {"任务编号": w.assignments[SURVEY][1].number},
     "任务编号", "该任务为家计调查任务，不能填入照料护理记录表"),
    ("another subject's name", SURVEY, lambda w: {"服务对象姓名": "冒名顶替"}, "服务对象姓名",
     lambda w: f"与任务对象姓名不一致（应为：{w.assignments[SURVEY][1].subject.name}）"),
    ("invalid ID number", SURVEY, lambda w: {"身份证号": "11010519491231002Y"}, "身份证号",
     "身份证号前17位应为数字，末位应为数字或X"),
    ("bad ID check digit", SURVEY, lambda w: {"身份证号": "110105194912310021"}, "身份证号", "身份证号校验位错误"),
    ("another person's ID number", SURVEY, lambda w: {"身份证号": "11010519491231002X"}, "身份证号",
     "与任务对象的身份证号不一致"),
    ("service date in the future", SURVEY, lambda w: {"服务日期": "2025-07-01"}, "服务日期", "服务日期不能晚于今天（2025-06-30）"),
    ("service date before the term", SURVEY, lambda w: {"服务日期": "2024-12-31"}, "服务日期", "早于合同起始日（2025-01-01）"),
    ("unreadable date", SURVEY, lambda w: {"服务日期": "五月一日"}, "服务日期",
     "日期格式无法识别（可写 2024-03-05、2024/3/5、2024年3月5日 或 20240305）"),
    ("date that does not exist", SURVEY, lambda w: {"服务日期": "2025-02-30"}, "服务日期", "日期不存在"),
    ("start time not HH:MM", SURVEY, lambda w: {"开始时间": "上午九点"}, "开始时间", "时间格式应为 HH:MM（如 09:30）"),
    ("end before start", SURVEY, lambda w: {"结束时间": "08:30"}, "结束时间", "结束时间应晚于开始时间"),
    ("visit of 3 minutes", SURVEY, lambda w: {"结束时间": "09:03"}, "结束时间", "服务时长为3分钟，应在5到480分钟之间"),
    ("visit of 9 hours", SURVEY, lambda w: {"结束时间": "18:00"}, "结束时间", "服务时长为540分钟，应在5到480分钟之间"),
    ("unregistered worker", SURVEY, lambda w: {"服务人员工号": "W99999"}, "服务人员工号", "该工号不是本承接主体登记的服务人员"),
    ("worker's name differs", SURVEY, lambda w: {"服务人员姓名": "张冠李戴"}, "服务人员姓名",
     lambda w: f"与该工号登记的姓名不一致（应为：{w.workers[1].name}）"),
    ("longitude without latitude", SURVEY, lambda w: {"经度": "115.0"}, "纬度", "经度和纬度应同时填写或同时留空"),
    ("coordinates outside China", SURVEY, lambda w: {"经度": "150", "纬度": "25.8"}, "经度", "应在73到136之间"),
    ("remark too long", SURVEY, lambda w: {"备注": "记" * 501}, "备注", "最多500个字，实有501个字"),
    ("household of 21", SURVEY, lambda w: {"家庭人口数": "21"}, "家庭人口数", "应为1到20之间的整数"),
    ("negative income", SURVEY, lambda w: {"家庭年收入(元)": "-5"}, "家庭年收入(元)", "金额不能为负数"),
    ("income with three decimals", SURVEY, lambda w: {"家庭年收入(元)": "100.123"}, "家庭年收入(元)", "金额最多保留两位小数"),
    ("income parts off by more than a yuan", SURVEY, lambda w: {"工资性收入(元)": "20000", "转移净收入(元)": "3000"},
     "家庭年收入(元)", "各项收入合计23,000.00元，与家庭年收入相差超过1元"),
    ("assets missing", SURVEY, lambda w: {"家庭金融资产(元)": ""}, "家庭金融资产(元)", "不能为空"),
    ("negative property count", SURVEY, lambda w: {"房产数量": "-1"}, "房产数量", "应为0到99之间的整数"),
    ("unknown survey conclusion", SURVEY, lambda w: {"调查结论": "可以"}, "调查结论", "应为以下之一：符合、不符合、需复核"),
    ("unknown self-care word", SELF_CARE, lambda w: {"自主吃饭": "也许"}, "自主吃饭", "应为以下之一：能、不能"),
    ("conclusion against the six items", SELF_CARE, lambda w: {"自主洗澡": "不能", "自主如厕": "否"}, "评估结论",
     "按六项指标（2项未达到）应为「部分丧失生活自理能力」"),
    ("unknown care item", CARE, lambda w: {"服务项目": "生活照料、洗衣"}, "服务项目",
     "「洗衣」不是规定的服务项目（可选：日常看护、生活照料、送医陪护、人文关怀、心理疏导、精神慰藉、环境适应、社会融入、能力提升）"),
    ("unknown signature word", CARE, lambda w: {"对象签字确认": "待定"}, "对象签字确认", "应为以下之一：是、否"),
]


@pytest.fixture
def rule_world(world, factory):
    """The world, plus a cancelled survey assignment and the other contractor's worker."""
    world.cancelled = factory.assignment(world.contract, service_type=SURVEY, status="cancelled")
    return world


@pytest.mark.parametrize("service_type, change, column, reason", [rule[1:] for rule in RULES],
                         ids=[rule[0] for rule in RULES])
def test_every_rule_refuses_the_bad_cell_with_its_row_column_and_reason(rule_world, service_type, change, column,
                                                                          reason):
    before = database_state()
    bad_row = good_row(rule_world, service_type, 1, **change(rule_world))
    result = upload(rule_world, service_type, csv_bytes(service_type, [good_row(rule_world, service_type), bad_row]))
    expected = reason(rule_world) if callable(reason) else reason
    assert result.batch.status == "rejected"
    assert [(e.row, e.column, e.value, e.reason) for e in result.errors] == [
        (3, column, bad_row.get(column, ""), expected)]
    assert database_state() == before


def test_a_missing_column_is_one_error_on_the_header_row(world):
    rows = [good_row(world, SURVEY)]
    data = csv_bytes(SURVEY, rows).replace("调查结论".encode(), "结论".encode())
    result = upload(world, SURVEY, data)
    assert [(e.row, e.reason) for e in result.errors] == [(1, "缺少必需的列：调查结论")]


def test_a_row_repeated_in_the_file_is_refused_pointing_at_the_first(world):
    row = good_row(world, SURVEY)
    result = upload(world, SURVEY, csv_bytes(SURVEY, [row, good_row(world, SURVEY, 1), row]))
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (4, "任务编号", "与第2行重复（同一任务、服务日期和开始时间）")]


def test_a_row_repeating_a_stored_record_is_refused(world, factory):
    factory.record(world.assignments[SURVEY][1], service_date=date(2025, 5, 2), start_time="09:00", end_time="09:30")
    result = upload(world, SURVEY, two_rows(world, SURVEY))
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "任务编号", "与已保存的记录重复（同一任务、服务日期和开始时间）")]


def test_a_worker_of_another_contractor_is_not_registered_here(world, factory):
    other = factory.contractor()
    stranger = db.session.execute(select(FieldWorker).where(FieldWorker.contractor_id == other.id)).scalars().first()
    result = upload(world, SURVEY, two_rows(world, SURVEY, 服务人员工号=stranger.worker_no, 服务人员姓名=stranger.name))
    assert [(e.row, e.column) for e in result.errors] == [(3, "服务人员工号")]


def test_every_bad_cell_of_the_file_is_reported(world):
    rows = [good_row(world, SURVEY, 0, 服务日期="2025-13-01", 家庭人口数="0"),
            good_row(world, SURVEY, 1), good_row(world, SURVEY, 2, 调查结论="", 结束时间="08:00")]
    result = upload(world, SURVEY, csv_bytes(SURVEY, rows))
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "服务日期"), (2, "家庭人口数"), (4, "结束时间"), (4, "调查结论")]
    assert result.batch.error_count == 4 and result.batch.rows_total == 3
    assert result.batch.errors == [error_dict(e) for e in result.errors]


# --- accepted forms ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_is_accepted(world, encoding):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 备注="入户，家中有老人"), good_row(world, SURVEY, 1)], encoding)
    result = upload(world, SURVEY, data)
    assert result.batch.status == "accepted", result.errors
    assert [r.remark for r in records()] == ["入户，家中有老人", None]
    assert records()[0].assignment.subject.name == world.assignments[SURVEY][0].subject.name


@pytest.mark.parametrize("written", ["2025-05-03", "2025/5/3", "2025年5月3日", "20250503", " ２０２５－０５－０３ "])
def test_each_date_form_is_accepted(world, written):
    result = upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 服务日期=written)]))
    assert result.batch.status == "accepted", result.errors
    assert records()[0].service_date == date(2025, 5, 3)


def test_excel_date_and_time_cells_and_full_width_text_are_accepted(world):
    rows = [good_row(world, CARE, 0, 服务人员工号=world.workers[0].worker_no.replace("W", "Ｗ") + " ")]
    data = xlsx_bytes(CARE, rows, {(0, "服务日期"): datetime(2025, 5, 3), (0, "开始时间"): time(14, 5),
                                  (0, "结束时间"): time(15, 0)})
    result = upload(world, CARE, data, "护理记录.xlsx")
    assert result.batch.status == "accepted", result.errors
    record = records()[0]
    assert (record.service_date, record.start_time, record.end_time, record.duration_minutes) == (
        date(2025, 5, 3), "14:05", "15:00", 55)
    assert record.worker_id == world.workers[0].id
    assert (record.care_items, record.signed) == ("日常看护、生活照料", True)


def test_records_keep_every_field_of_their_service(world):
    upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, 0, **{
        "工资性收入(元)": "20000", "经营净收入(元)": "-1000", "转移净收入(元)": "5000.5", "房产数量": "1",
        "经度": "115.01", "纬度": "25.87"})]))
    labels = ("自主吃饭", "自主穿衣", "自主上下床", "自主如厕", "室内行走", "自主洗澡")
    upload(world, SELF_CARE, csv_bytes(SELF_CARE, [good_row(world, SELF_CARE, 0, **dict(zip(labels, "能否能×√能")),
                                                         评估结论="部分丧失生活自理能力")]), "assess.csv")
    survey, assessment = records()
    assert (survey.household_size, survey.annual_income_fen, survey.wage_income_fen, survey.business_income_fen,
            survey.transfer_income_fen, survey.property_income_fen, survey.financial_assets_fen,
            survey.property_count, survey.survey_conclusion, survey.per_capita_monthly_income_fen) == (
        3, 2_400_000, 2_000_000, -100_000, 500_050, None, 500_000, 1, "需复核", 66_667)
    assert (survey.longitude, survey.latitude, survey.excel_row, survey.contract_id) == (
        115.01, 25.87, 2, world.contract.id)
    assert [getattr(assessment, key) for key in ("eating", "dressing", "transfer", "toileting", "walking", "bathing")] \
        == [True, False, True, False, True, True]
    assert (assessment.conclusion, assessment.fails, assessment.household_size) == ("部分丧失生活自理能力", 2, None)


# --- all or nothing ------------------------------------------------------------------------


def test_an_accepted_file_completes_surveys_and_assessments_at_once(world):
    before = datetime.utcnow()
    upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(2)]))
    assert statuses(world.assignments[SURVEY]) == ["completed", "completed", "assigned"]
    completed = db.session.get(Assignment, world.assignments[SURVEY][0].id).completed_at
    assert before <= completed <= datetime.utcnow()
    assert statuses(world.assignments[SELF_CARE]) == ["assigned"] * 3


def test_a_care_visit_completes_once_it_has_its_required_visits(world):
    care = world.assignments[CARE]
    upload(world, CARE, csv_bytes(CARE, [good_row(world, CARE, 0)]))
    assert statuses(care) == ["assigned", "assigned", "assigned"]
    upload(world, CARE, csv_bytes(CARE, [good_row(world, CARE, 0, 服务日期="2025-05-20"), good_row(world, CARE, 1)]),
           "second.csv")
    assert statuses(care) == ["completed", "assigned", "assigned"]


def test_an_overdue_assignment_is_completed_and_a_completed_one_keeps_its_time(world, factory):
    overdue = factory.assignment(world.contract, service_type=SURVEY, status="overdue")
    done = world.assignments[SURVEY][0]
    done.status, done.completed_at = "completed", datetime(2025, 4, 1, 8, 0)
    db.session.commit()
    row = good_row(world, SURVEY, 0, 任务编号=overdue.number, 服务对象姓名=overdue.subject.name,
                   身份证号=overdue.subject.id_number)
    upload(world, SURVEY, csv_bytes(SURVEY, [row, good_row(world, SURVEY, 0, 服务日期="2025-05-09")]))
    assert db.session.get(Assignment, overdue.id, populate_existing=True).status == "completed"
    assert db.session.get(Assignment, done.id, populate_existing=True).completed_at == datetime(2025, 4, 1, 8, 0)


@pytest.mark.parametrize("where", ["second insert", "completing assignments", "audit event"])
def test_a_failure_in_the_middle_leaves_the_database_as_it_was(world, factory, monkeypatch, where):
    factory.record(world.assignments[SURVEY][2], service_date=date(2025, 4, 1))
    before = database_state()
    monkeypatch.setattr(completion_import, "INSERT_CHUNK", 1)
    calls = []
    broken = {"second insert": (RawInsert, "run"),
              "completing assignments": (completion_import, "_complete_assignments"),
              "audit event": (completion_import, "record_event")}[where]
    real = getattr(*broken)

    def fail_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2 or where != "second insert":
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(*broken, fail_second_time)
    result = upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(2)]))
    assert (result.batch.status, result.batch.message) == ("failed", FAILED_MESSAGE)
    assert db.session.get(UploadBatch, result.batch.id, populate_existing=True).status == "failed"
    assert database_state() == before


def test_a_rejected_file_changes_nothing_but_its_batch(world):
    before = database_state()
    result = upload(world, SURVEY, two_rows(world, SURVEY, 家庭人口数="很多"))
    assert result.batch.status == "rejected" and result.batch.rows_accepted == 0
    assert database_state() == before


def test_the_same_file_twice_is_refused_pointing_at_the_first_batch(world):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)])
    first = upload(world, SURVEY, data, "五月.csv").batch
    before = database_state()
    second = upload(world, SURVEY, data, "五月-副本.csv").batch
    assert second.status == "rejected" and second.id != first.id
    shown = (first.uploaded_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # county time
    assert second.message == (f"该文件已于{shown}（北京时间）上传过（批次 #{first.id}，"
                              "文件名 五月.csv），不能重复上传")
    assert second.sha256 == first.sha256
    assert database_state() == before


def test_a_refused_file_may_be_sent_again_once_corrected_or_even_unchanged(world):
    data = two_rows(world, SURVEY, 调查结论="?")
    assert upload(world, SURVEY, data).batch.status == "rejected"
    assert upload(world, SURVEY, data).batch.status == "rejected"
    assert upload(world, SURVEY, two_rows(world, SURVEY)).batch.status == "accepted"


def test_a_contractor_cannot_upload_against_another_contractors_contract(world, factory):
    outsider = factory.user("contractor", contractor=factory.contractor())
    with pytest.raises(ImportRefused, match="不属于本承接机构"):
        start_import(world.contract, SURVEY, b"x", "log.csv", outsider, uploads_store())
    auditor = factory.user("auditor")
    with pytest.raises(ImportRefused, match="审计人员不能上传"):
        start_import(world.contract, SURVEY, b"x", "log.csv", auditor, uploads_store())
    assert db.session.execute(select(UploadBatch)).first() is None


def test_a_service_the_contract_does_not_cover_is_refused(factory):
    contract = factory.contract(service_types=("care_visit",))
    with pytest.raises(ImportRefused, match="不包含家计调查服务"):
        start_import(contract, SURVEY, b"x", "log.csv", None, uploads_store())


@pytest.mark.parametrize("data, filename, reason", [
    (b"", "log.csv", "文件是空的"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", "无法读取旧版 .xls 文件"),
    (b"PK\x03\x04 not a zip", "log.xlsx", "文件已损坏或不是有效的 Excel（.xlsx）文件"),
])
def test_an_unreadable_file_fails_with_its_reason(world, data, filename, reason):
    result = upload(world, SURVEY, data, filename)
    assert result.batch.status == "failed" and result.batch.message.startswith(reason)


def test_the_original_file_is_kept_under_its_hash(world):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)], "gbk")
    batch = upload(world, SURVEY, data, "五月.CSV").batch
    assert batch.stored_path == f"logs/{batch.sha256}.csv"
    assert (Path(current_app.config["UPLOADS_DIR"]) / batch.stored_path).read_bytes() == data
    assert (batch.filename, batch.size_bytes, batch.rows_total, batch.rows_processed) == (
        "五月.CSV", len(data), 1, 1)


# --- the highlighted copy ------------------------------------------------------------------


def _marked(report: bytes) -> tuple[set[tuple[int, str]], dict[int, str]]:
    sheet = load_workbook(io.BytesIO(report)).worksheets[0]
    headers = {cell.column: cell.value for cell in sheet[1]}
    reason_column = next(column for column, value in headers.items() if str(value).startswith(REASON_HEADER))
    marked = {(cell.row, headers[cell.column]) for row in sheet.iter_rows() for cell in row
              if cell.fill.fill_type == "solid" and cell.fill.start_color.rgb == HIGHLIGHT_RGB}
    notes = {row: sheet.cell(row, reason_column).value for row in range(2, sheet.max_row + 1)
             if sheet.cell(row, reason_column).value}
    return marked, notes


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_highlighted_copy_marks_exactly_the_bad_cells(world, kind):
    rows = [good_row(world, SURVEY, 0, 家庭人口数="0"), good_row(world, SURVEY, 1),
            good_row(world, SURVEY, 2, 服务人员姓名="无名氏", 调查结论="差不多")]
    data = csv_bytes(SURVEY, rows) if kind == "csv" else xlsx_bytes(SURVEY, rows)
    batch = upload(world, SURVEY, data, f"log.{kind}").batch
    report = (Path(current_app.config["UPLOADS_DIR"]) / batch.error_report_path).read_bytes()
    marked, notes = _marked(report)
    assert marked == {(2, "家庭人口数"), (4, "服务人员姓名"), (4, "调查结论")}
    assert notes == {2: "家庭人口数：应为1到20之间的整数",
                     4: f"服务人员姓名：与该工号登记的姓名不一致（应为：{world.workers[0].name}）；"
                        "调查结论：应为以下之一：符合、不符合、需复核"}


# --- anomaly flags -------------------------------------------------------------------------


def test_anomaly_flags_are_computed_on_import_with_their_reasons(world, factory):
    survey = world.assignments[SURVEY]
    factory.record(world.assignments[CARE][2], worker=world.workers[1], service_date=date(2025, 5, 2),
                   start_time="09:10", end_time="09:50")
    rows = [
        good_row(world, SURVEY, 0, 结束时间="09:08"),                                  # short
        good_row(world, SURVEY, 1),                                                   # overlaps the stored care visit
        good_row(world, SURVEY, 2, 服务日期="2025-05-09", 经度="116.40", 纬度="39.90"),  # far from 梅林镇
    ]
    upload(world, SURVEY, csv_bytes(SURVEY, rows))
    flags = {r.assignment_id: r.anomaly_flags for r in records() if r.batch_id}
    assert flags[survey[0].id] == [{"code": "short_visit", "reason": "服务时长仅8分钟（少于10分钟）"}]
    assert flags[survey[1].id] == [{"code": "overlap", "reason": f"服务人员{world.workers[1].worker_no}同日另有服务与本次"
                                                                 "（09:00–09:45）时间重叠"}]
    assert [flag["code"] for flag in flags[survey[2].id]] == ["far_from_township"]
    assert flags[survey[2].id][0]["reason"].startswith("坐标距梅林镇中心约")
    assert {r.assignment_id: r.flagged for r in records() if r.batch_id} == {a.id: True for a in survey}


def test_identical_answers_across_households_of_one_worker_are_flagged(world):
    same = {"家庭年收入(元)": "30000", "服务人员工号": world.workers[0].worker_no, "服务人员姓名": world.workers[0].name}
    rows = [good_row(world, SURVEY, 0, **same), good_row(world, SURVEY, 1, **same), good_row(world, SURVEY, 2)]
    upload(world, SURVEY, csv_bytes(SURVEY, rows))
    codes = [[flag["code"] for flag in r.anomaly_flags] for r in records()]
    assert codes == [["identical_answers"], ["identical_answers"], []]
    assert records()[0].anomaly_flags[0]["reason"] == "与同一服务人员调查的另外1户家庭人口、收入和资产完全相同"


def test_a_survey_conclusion_against_the_poverty_line_is_flagged(world):
    from oversight.models import LocalStandard
    from oversight.services.areas import home_county

    db.session.add(LocalStandard(county_id=home_county().id, year=2025, county="赣县区", poverty_line_fen=75_000, care_allowance_tier1_fen=1,
                                 care_allowance_tier2_fen=1, care_allowance_tier3_fen=1))
    db.session.commit()
    upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, 0, **{
        "家庭年收入(元)": "36000", "调查结论": "符合"})]))
    assert records()[0].anomaly_flags == [{"code": "eligible_above_line",
                                          "reason": "结论为符合，但人均月收入1,000.00元不低于低保标准750.00元"}]


def test_a_changed_self_care_conclusion_and_an_unsigned_visit_are_flagged(world, factory):
    person = world.assignments[SELF_CARE][0]
    factory.record(factory.assignment(world.contract, subject=person.subject, service_type=SELF_CARE),
                   service_date=date(2025, 2, 1))
    upload(world, SELF_CARE, csv_bytes(SELF_CARE, [good_row(world, SELF_CARE, 0)]))
    upload(world, CARE, csv_bytes(CARE, [good_row(world, CARE, 1, 对象签字确认="否")]))
    flagged = [r.anomaly_flags for r in records() if r.batch_id]
    assert flagged == [
        [{"code": "conclusion_changed", "reason": "评估结论由「部分丧失生活自理能力」变为「具备生活自理能力」"}],
        [{"code": "unsigned", "reason": "服务对象未签字确认"}],
    ]


# --- audit ---------------------------------------------------------------------------------


def test_an_accepted_batch_is_audited_by_one_summary_event(world):
    batch = upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(3)])).batch
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "CompletionRecord")).scalars().all()
    assert [(e.action, e.changes["rows"], e.changes["batch"], e.changes["completed_assignments"]) for e in events] == [
        ("import", 3, batch.id, 3)]
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "UploadBatch")).scalars()
    assert list(actions) == ["create", "update"]


def test_the_import_runs_on_the_queue_and_reports_progress(world, app, monkeypatch):
    app.config["IMPORT_SYNC"] = False  # the queue, in immediate mode under the tests
    monkeypatch.setattr(completion_import, "READ_ROWS", 1)
    seen = []
    real = completion_import._progress
    monkeypatch.setattr(completion_import, "_progress", lambda batch_id, **values: (seen.append(values),
                                                                                    real(batch_id, **values)))
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(3)])
    batch = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
    db.session.commit()
    import_later(batch.id, TODAY)
    done = db.session.get(UploadBatch, batch.id, populate_existing=True)
    assert (done.status, done.attempts, done.worker) == ("accepted", 1, process_name())
    assert sorted({values["rows_processed"] for values in seen if "rows_processed" in values}) == [0, 1, 2, 3]
    assert seen[0]["rows_processed"] == 0 and seen[-1] == {"message": completion_import.SAVING_MESSAGE}
    assert statuses(world.assignments[SURVEY]) == ["completed"] * 3


def test_a_file_another_contractor_sent_is_refused_without_pointing_at_its_batch(world, factory):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)])
    upload(world, SURVEY, data)
    other = factory.contract(service_types=(SURVEY,))
    batch = start_import(other, SURVEY, data, "log.csv", None, uploads_store())
    assert (batch.status, batch.message) == ("rejected", "该文件已上传过，不能重复上传")


def test_a_store_failing_while_the_error_report_is_written_fails_the_batch_in_chinese(world, monkeypatch):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 家庭人口数="三")])
    batch = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
    db.session.commit()
    failing_store(monkeypatch)
    result = completion_import.run_import(batch.id, TODAY)
    assert result.batch.status == "failed" and result.batch.message.startswith(FULL_DISK)


# --- a prefilled template, partly filled -----------------------------------------------------


def test_a_partly_filled_prefilled_template_checks_only_the_started_rows(world, factory):
    more = [factory.assignment(world.contract, service_type=SURVEY) for _ in range(7)]
    template = log_template(world.contract, SURVEY, None, prefill=True)
    first, second = world.assignments[SURVEY][:2]
    filled = {first.number: good_row(world, SURVEY, 0), second.number: good_row(world, SURVEY, 1, 家庭人口数="三口")}
    result = upload(world, SURVEY, fill_template(template, filled), "partly.xlsx")
    batch = result.batch
    assert (batch.status, batch.rows_total, batch.rows_skipped, batch.error_count) == ("rejected", 10, 8, 1)
    assert [(e.column, e.value, e.reason) for e in result.errors] == [("家庭人口数", "三口", "应为1到20之间的整数")]
    assert skipped_note(batch) == "8 行未填写，已跳过"

    filled[second.number] = good_row(world, SURVEY, 1)
    batch = upload(world, SURVEY, fill_template(template, filled), "partly-fixed.xlsx").batch
    assert (batch.status, batch.rows_accepted, batch.rows_skipped) == ("accepted", 2, 8)
    assert statuses([first, second, world.assignments[SURVEY][2], *more]) == ["completed"] * 2 + ["assigned"] * 8
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "CompletionRecord")).scalar_one()
    assert (event.changes["rows"], event.changes["skipped_rows"]) == (2, 8)
