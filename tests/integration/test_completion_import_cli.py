"""`flask import-log` and `flask template`: exit statuses, the JSON answer, ownership, templates."""
from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from oversight.domain.completion_log import TEMPLATE_COLUMNS
from oversight.extensions import db
from oversight.models import AuditEvent, CompletionRecord, UploadBatch
from tests.completion_support import CARE, SURVEY, csv_bytes, good_row, world  # noqa: F401  (fixture)
from tests.store_support import FULL_DISK, failing_store


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def log_file(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_accepted_log_exits_0_with_its_batch_in_json(app, world, tmp_path):
    path = log_file(tmp_path, "五月.csv", csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(2)]))
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    batch = db.session.execute(select(UploadBatch)).scalar_one()
    assert answer == {"status": "accepted", "batch_id": batch.id, "rows": 2, "errors": [], "message": None}
    assert batch.filename == "五月.csv" and batch.uploaded_by_id is None
    assert db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one() == 2


def test_a_rejected_log_exits_1_listing_every_bad_cell(app, world, tmp_path):
    rows = [good_row(world, SURVEY, 0, 家庭人口数="零"), good_row(world, SURVEY, 1, 调查结论="")]
    path = log_file(tmp_path, "bad.csv", csv_bytes(SURVEY, rows, "gbk"))
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY, "--json")
    assert result.exit_code == 1
    answer = json.loads(result.output)
    assert answer["status"] == "rejected" and answer["rows"] == 2
    assert answer["errors"] == [
        {"row": 2, "column": "家庭人口数", "value": "零", "reason": "应为1到20之间的整数"},
        {"row": 3, "column": "调查结论", "value": "", "reason": "不能为空"},
    ]
    assert answer["message"] == "文件有 2 处错误，未保存任何数据"


def test_without_json_the_errors_are_written_as_lines(app, world, tmp_path):
    path = log_file(tmp_path, "bad.csv", csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 家庭人口数="零")]))
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY)
    assert result.exit_code == 1
    assert "第2行 家庭人口数「零」：应为1到20之间的整数" in result.output


@pytest.mark.parametrize("data, reason", [
    (b"", "文件是空的"),
    (b"PK\x03\x04 broken", "文件已损坏或不是有效的 Excel（.xlsx）文件"),
])
def test_an_unreadable_file_exits_2_with_the_reason(app, world, tmp_path, data, reason):
    path = log_file(tmp_path, "log.xlsx", data)
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY, "--json")
    assert result.exit_code == 2
    assert json.loads(result.output)["status"] == "failed"
    assert json.loads(result.output)["message"] == reason


def test_the_same_file_twice_exits_1_naming_the_first_batch(app, world, tmp_path):
    path = log_file(tmp_path, "五月.csv", csv_bytes(SURVEY, [good_row(world, SURVEY)]))
    assert run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY).exit_code == 0
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY)
    assert result.exit_code == 1
    assert "批次 #1，文件名 五月.csv），不能重复上传" in result.output


def test_the_service_is_needed_only_when_the_contract_has_several(app, world, factory, tmp_path):
    path = log_file(tmp_path, "care.csv", csv_bytes(CARE, [good_row(world, CARE)]))
    result = run(app, "import-log", path, "--contract", world.contract.code)
    assert result.exit_code == 2 and "合同包含多项服务，请指定服务类型" in result.output
    survey_only = factory.contract(world.contractor, service_types=(SURVEY,))
    assignment = factory.assignment(survey_only)
    row = good_row(world, SURVEY, 0, 任务编号=assignment.number, 服务对象姓名=assignment.subject.name,
                   身份证号=assignment.subject.id_number)
    path = log_file(tmp_path, "survey.csv", csv_bytes(SURVEY, [row]))
    assert run(app, "import-log", path, "--contract", survey_only.code).exit_code == 0


def test_a_contractor_user_may_not_import_for_another_contractor(app, world, factory, tmp_path):
    outsider = factory.user("contractor", factory.contractor())
    insider = factory.user("contractor", world.contractor)
    path = log_file(tmp_path, "log.csv", csv_bytes(SURVEY, [good_row(world, SURVEY)]))
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY,
                 "--user", outsider.username)
    assert result.exit_code == 2 and "不属于本承接机构" in result.output
    assert db.session.execute(select(UploadBatch)).first() is None
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY,
                 "--user", insider.username)
    assert result.exit_code == 0
    assert db.session.execute(select(UploadBatch.uploaded_by_id)).scalar_one() == insider.id


def test_an_unknown_contract_exits_2(app, tmp_path):
    path = log_file(tmp_path, "log.csv", b"a,b\n1,2\n")
    result = run(app, "import-log", path, "--contract", "NO-SUCH")
    assert result.exit_code == 2 and "合同 NO-SUCH 不存在" in result.output


def test_the_template_has_the_headers_workers_and_drop_downs(app, world, tmp_path):
    out = tmp_path / "survey.xlsx"
    result = run(app, "template", "--contract", world.contract.code, "--service-type", SURVEY, "--out", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    sheet = book["服务记录"]
    assert [cell.value for cell in sheet[1]] == [column.header for column in TEMPLATE_COLUMNS[SURVEY]]
    assert sheet.max_row == 1
    assert [tuple(row) for row in book["服务人员"].iter_rows(min_row=2, values_only=True)] == [
        (w.worker_no, w.name) for w in world.workers]
    lists = {str(rule.sqref).split(":")[0]: rule.formula1 for rule in sheet.data_validations.dataValidation
             if rule.type == "list"}
    assert lists["G2"] == "'服务人员'!$A$2:$A$3"
    assert lists["U2"] == '"符合,不符合,需复核"'


def test_a_prefilled_template_has_one_row_per_open_assignment_and_is_audited(app, world, factory, tmp_path):
    factory.assignment(world.contract, service_type=CARE, status="cancelled")
    done = world.assignments[CARE][2]
    done.status = "completed"
    db.session.commit()
    out = tmp_path / "care.xlsx"
    assert run(app, "template", "--contract", world.contract.code, "--service-type", CARE, "--out", out,
               "--prefill").exit_code == 0
    rows = list(load_workbook(out)["服务记录"].iter_rows(min_row=2, max_col=3, values_only=True))
    assert sorted(rows) == sorted((a.number, a.subject.name, a.subject.id_number) for a in world.assignments[CARE][:2])
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "view_full")).scalar_one()
    assert event.changes["assignments"] == 2 and event.changes["contract"] == world.contract.code


def test_a_template_for_a_service_outside_the_contract_is_refused(app, factory, tmp_path):
    contract = factory.contract(service_types=(CARE,))
    result = run(app, "template", "--contract", contract.code, "--service-type", SURVEY, "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "不包含家计调查服务" in result.output


def test_a_full_disk_exits_2_with_a_chinese_message_and_no_batch(app, world, tmp_path, monkeypatch):
    path = log_file(tmp_path, "五月.csv", csv_bytes(SURVEY, [good_row(world, SURVEY, 0)]))
    failing_store(monkeypatch)
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY)
    assert result.exit_code == 2
    assert result.output.startswith(f"未导入：{FULL_DISK}")
    assert db.session.execute(select(UploadBatch)).first() is None


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(app, world, tmp_path):
    app.config["UPLOAD_MAX_UNCOMPRESSED_BYTES"] = 1 << 20
    path = log_file(tmp_path, "大.csv", b"x" * (2 << 20))
    result = run(app, "import-log", path, "--contract", world.contract.code, "--service-type", SURVEY)
    assert result.exit_code == 2 and "文件超过 1 MB 的上限" in result.output
    assert db.session.execute(select(UploadBatch)).first() is None
