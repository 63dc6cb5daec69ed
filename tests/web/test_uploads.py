"""Upload pages: templates, upload, progress, errors (paged), downloads, history, records with
their flags, the visit form, and who may see and do what."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters.files import uploads_store
from oversight.domain.completion_log import TEMPLATE_COLUMNS
from oversight.extensions import db
from oversight.models import Assignment, AuditEvent, CompletionRecord, UploadBatch
from oversight.services.completion_import import run_import, start_import
from tests import hostile_files
from tests.completion_support import (
    CARE,
    SURVEY,
    csv_bytes,
    good_row,
    sync_imports,  # noqa: F401  (fixture)
    world,  # noqa: F401  (fixture)
)
from tests.store_support import FULL_DISK, failing_store

pytestmark = pytest.mark.usefixtures("sync_imports")


@pytest.fixture
def people(world, factory):
    outsider = factory.contractor(name="他方机构")
    return {"contractor": factory.user("contractor", world.contractor), "supervisor": factory.user("supervisor"),
            "auditor": factory.user("auditor"), "outsider": factory.user("contractor", outsider)}


def post_file(client, url, data: bytes, filename: str, service_type: str = SURVEY):
    return client.post(url, {"service_type": service_type, "file": (io.BytesIO(data), filename)}, token_from=url,
                       content_type="multipart/form-data")


def upload_url(world) -> str:
    return f"/uploads/contracts/{world.contract.id}/new"


def latest_batch() -> UploadBatch:
    return db.session.execute(select(UploadBatch).order_by(UploadBatch.id.desc()).limit(1)).scalar_one()


def test_a_good_file_is_accepted_and_its_assignments_show_completed(client_for, world, people):
    client = client_for(people["contractor"])
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(2)])
    response = post_file(client, upload_url(world), data, "五月.csv")
    batch = latest_batch()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/uploads/batches/{batch.id}")
    page = client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True)
    assert "已接收 2 条服务记录" in page and batch.uploaded_by_id == people["contractor"].id
    listing = client.get(f"/assignments/?contract={world.contract.id}&status=completed").get_data(as_text=True)
    assert all(a.number in listing for a in world.assignments[SURVEY][:2])
    assert world.assignments[SURVEY][2].number not in listing
    assert "已完成" in client.get("/dashboard").get_data(as_text=True)


def test_a_bad_file_lists_every_bad_cell_and_offers_the_marked_copy(client_for, world, people):
    client = client_for(people["contractor"])
    rows = [good_row(world, SURVEY, 0, 家庭人口数="三"), good_row(world, SURVEY, 1, 服务日期="2025-02-30")]
    post_file(client, upload_url(world), csv_bytes(SURVEY, rows), "五月.csv")
    batch = latest_batch()
    page = client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True)
    cells = re.findall(r'<tr class="row-error"><td class="num">(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>', page)
    assert cells == [("2", "家庭人口数", "三", "应为1到20之间的整数"), ("3", "服务日期", "2025-02-30", "日期不存在")]
    assert "文件有 2 处错误，未保存任何数据" in page
    report = client.get(f"/uploads/batches/{batch.id}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(report.data)).worksheets[0]
    assert sheet.cell(2, 11).fill.start_color.rgb.endswith("C7CE") and sheet.cell(3, 4).fill.fill_type == "solid"
    assert db.session.execute(select(CompletionRecord)).first() is None


def test_a_long_error_list_is_paged_a_hundred_at_a_time(client_for, world, people, factory):
    client = client_for(people["contractor"])
    rows = [good_row(world, SURVEY, 0, 服务日期=f"2025-05-{day:02d}", 开始时间=f"{hour:02d}:00", 结束时间=f"{hour:02d}:30",
                     调查结论="?") for day in range(1, 29) for hour in range(8, 13)]
    post_file(client, upload_url(world), csv_bytes(SURVEY, rows), "big.csv")
    batch = latest_batch()
    assert batch.error_count == 140
    first = client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True)
    second = client.get(f"/uploads/batches/{batch.id}?page=2").get_data(as_text=True)
    assert first.count('class="row-error"') == 100 and second.count('class="row-error"') == 40
    assert "第 2 / 2 页，共 140 处错误" in second
    assert f"/uploads/batches/{batch.id}?page=2" in first


def test_the_error_page_size_is_a_setting_and_a_huge_page_is_404(app, client_for, world, people):
    app.config["UPLOAD_ERRORS_PAGE_SIZE"] = 2
    client = client_for(people["contractor"])
    rows = [good_row(world, SURVEY, i, 调查结论="?") for i in range(3)]
    post_file(client, upload_url(world), csv_bytes(SURVEY, rows), "bad.csv")
    batch = latest_batch()
    assert client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True).count('class="row-error"') == 2
    assert client.get(f"/uploads/batches/{batch.id}?page=2").get_data(as_text=True).count('class="row-error"') == 1
    assert client.get(f"/uploads/batches/{batch.id}?page=9999999999999999999999").status_code == 404


def test_the_original_file_is_downloadable_by_the_uploader_and_the_auditor(client_for, world, people):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)], "gbk")
    post_file(client_for(people["contractor"]), upload_url(world), data, "五月.csv")
    batch = latest_batch()
    for user in (people["contractor"], people["auditor"], people["supervisor"]):
        response = client_for(user).get(f"/uploads/batches/{batch.id}/original")
        assert response.status_code == 200 and response.data == data
        assert "attachment" in response.headers["Content-Disposition"]


def test_the_same_file_twice_points_to_the_first_batch(client_for, world, people):
    client = client_for(people["contractor"])
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)])
    post_file(client, upload_url(world), data, "a.csv")
    first = latest_batch()
    post_file(client, upload_url(world), data, "b.csv")
    page = client.get(f"/uploads/batches/{latest_batch().id}").get_data(as_text=True)
    assert f"批次 #{first.id}，文件名 a.csv），不能重复上传" in page
    assert f'href="/uploads/batches/{first.id}"' in page


def test_an_unreadable_file_says_why(client_for, world, people):
    client = client_for(people["contractor"])
    post_file(client, upload_url(world), b"PK\x03\x04broken", "log.xlsx")
    page = client.get(f"/uploads/batches/{latest_batch().id}").get_data(as_text=True)
    assert "未保存任何数据：文件已损坏或不是有效的 Excel（.xlsx）文件" in page


def test_the_status_endpoint_reports_progress(client_for, world, people):
    batch = start_import(world.contract, SURVEY, b"x", "log.csv", None, uploads_store())
    batch.rows_total, batch.rows_processed, batch.status = 500, 120, "processing"
    db.session.commit()
    client = client_for(people["contractor"])
    assert client.get(f"/uploads/batches/{batch.id}/status").get_json() == {
        "status": "processing", "label": "处理中", "rows_total": 500, "rows_processed": 120, "message": None,
        "done": False}
    page = client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True)
    assert '<progress id="progress-bar" max="500" value="120"' in page
    # The polling script is a static file (the Content-Security-Policy forbids inline scripts).
    assert 'src="/static/js/upload-progress.js"' in page
    assert "fetch(box.dataset.statusUrl" in client.get("/static/js/upload-progress.js").get_data(as_text=True)


@pytest.mark.parametrize("prefill", [False, True])
def test_templates_download_with_the_workers_and_prefilled_assignments(client_for, world, people, prefill):
    client = client_for(people["contractor"])
    response = client.get(f"/uploads/contracts/{world.contract.id}/template/{SURVEY}.xlsx"
                          + ("?prefill=1" if prefill else ""))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["服务记录"].iter_rows(min_row=2, max_col=3, values_only=True))
    expected = [(a.number, a.subject.name, a.subject.id_number) for a in world.assignments[SURVEY]]
    assert sorted(r for r in rows if any(r)) == (sorted(expected) if prefill else [])
    assert [row[0] for row in book["服务人员"].iter_rows(min_row=2, values_only=True)] == [
        w.worker_no for w in world.workers]
    viewed = db.session.execute(select(AuditEvent).where(AuditEvent.action == "view_full")).scalars().all()
    assert [(e.user_id, e.changes["assignments"]) for e in viewed] == ([(people["contractor"].id, 3)] if prefill else [])


@pytest.mark.parametrize("url", [
    "/uploads/contracts/{contract}/new",
    "/uploads/contracts/{contract}/template/household_survey.xlsx",
    "/uploads/batches/{batch}",
    "/uploads/batches/{batch}/status",
    "/uploads/batches/{batch}/original",
    "/uploads/batches/{batch}/errors.xlsx",
    "/uploads/?contract={contract}",
    "/records/?contract={contract}",
    "/records/?batch={batch}",
    "/records/assignments/{assignment}/new",
])
def test_another_contractor_gets_404_for_everything_of_this_contract(client_for, world, people, url):
    batch = start_import(world.contract, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 调查结论="?")]),
                         "log.csv", None, uploads_store())
    db.session.commit()
    run_import(batch.id, date(2025, 6, 30))
    target = url.format(contract=world.contract.id, batch=batch.id, assignment=world.assignments[SURVEY][0].id)
    assert client_for(people["outsider"]).get(target).status_code == 404


def test_another_contractor_cannot_post_a_file_to_this_contract(client_for, world, people):
    client = client_for(people["outsider"])
    response = client.post(upload_url(world), {"service_type": SURVEY, "file": (io.BytesIO(b"x"), "a.csv")},
                           token_from="/uploads/", content_type="multipart/form-data")
    assert response.status_code == 404
    assert db.session.execute(select(UploadBatch)).first() is None


def test_an_auditor_reads_history_but_cannot_upload(client_for, world, people):
    post_file(client_for(people["contractor"]), upload_url(world), csv_bytes(SURVEY, [good_row(world, SURVEY)]),
              "a.csv")
    auditor = client_for(people["auditor"])
    assert "a.csv" in auditor.get("/uploads/").get_data(as_text=True)
    assert auditor.get(upload_url(world)).status_code == 403
    response = auditor.post(upload_url(world), {"service_type": SURVEY, "file": (io.BytesIO(b"x"), "b.csv")},
                            token_from="/uploads/", content_type="multipart/form-data")
    assert response.status_code == 403


def test_the_history_lists_batches_with_uploader_hash_rows_and_status(client_for, world, people):
    client = client_for(people["contractor"])
    post_file(client, upload_url(world), csv_bytes(SURVEY, [good_row(world, SURVEY)]), "good.csv")
    post_file(client, upload_url(world), csv_bytes(SURVEY, [good_row(world, SURVEY, 1, 调查结论="?")]), "bad.csv")
    page = client_for(people["supervisor"]).get("/uploads/").get_data(as_text=True)
    good, bad = db.session.execute(select(UploadBatch).order_by(UploadBatch.id)).scalars().all()
    for batch, label in ((good, "已接收"), (bad, "已拒收")):
        row = re.search(rf'<tr><td><a href="/uploads/batches/{batch.id}">.*?</tr>', page, re.S).group(0)
        assert batch.filename in row and batch.sha256[:12] in row and label in row
        assert people["contractor"].display_name in row
    assert client_for(people["outsider"]).get("/uploads/").get_data(as_text=True).count("/uploads/batches/") == 0


def test_flags_are_shown_to_the_bureau_with_their_reasons_and_not_to_the_contractor(client_for, world, people):
    post_file(client_for(people["contractor"]), upload_url(world),
              csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 结束时间="09:07")]), "a.csv")
    assignment = world.assignments[SURVEY][0]
    for url in (f"/records/?contract={world.contract.id}", f"/assignments/{assignment.id}"):
        staff = client_for(people["supervisor"]).get(url).get_data(as_text=True)
        assert "服务时长仅7分钟（少于10分钟）" in staff and "异常标记" in staff
        own = client_for(people["contractor"]).get(url).get_data(as_text=True)
        assert assignment.number in own and "服务时长仅7分钟" not in own and "异常标记" not in own
    flagged_only = client_for(people["supervisor"]).get("/records/?flagged=1").get_data(as_text=True)
    assert assignment.number in flagged_only


def test_the_visit_form_applies_the_log_rules_to_each_field(client_for, world, people):
    client = client_for(people["contractor"])
    assignment = world.assignments[CARE][0]
    url = f"/records/assignments/{assignment.id}/new"
    form = {"service_date": "2024-12-09", "start_time": "10:00", "end_time": "10:02", "worker_no": "",
            "care_items": ["生活照料"], "signed": "是"}
    page = client.post(url, form, token_from=url, follow_redirects=True).get_data(as_text=True)
    errors = dict(re.findall(r'<div class="field has-error">\s*<label for="(\w+)">.*?<div class="error">(.*?)</div>',
                             page, re.S))
    assert errors == {"service_date": "早于合同起始日（2025-01-01）", "end_time": "服务时长为2分钟，应在5到480分钟之间",
                      "worker_no": "不能为空"}
    assert db.session.execute(select(CompletionRecord)).first() is None


def test_the_visit_form_saves_a_visit_and_the_second_visit_completes_the_care(client_for, world, people):
    client = client_for(people["contractor"])
    assignment = world.assignments[CARE][0]
    url = f"/records/assignments/{assignment.id}/new"
    worker = world.workers[0]
    for day in ("2025-05-01", "2025-05-15"):
        form = {"service_date": day, "start_time": "10:00", "end_time": "10:40", "worker_no": worker.worker_no,
                "care_items": ["生活照料", "心理疏导"], "signed": "是", "remark": "老人精神好"}
        response = client.post(url, form, token_from=url)
        assert response.status_code == 302, response.get_data(as_text=True)
    visits = db.session.execute(select(CompletionRecord).order_by(CompletionRecord.id)).scalars().all()
    assert [(v.service_date, v.care_items, v.entered_by_id, v.batch_id) for v in visits] == [
        (date(2025, 5, 1), "生活照料、心理疏导", people["contractor"].id, None),
        (date(2025, 5, 15), "生活照料、心理疏导", people["contractor"].id, None)]
    assert db.session.get(Assignment, assignment.id, populate_existing=True).status == "completed"
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert page.count("表单录入") == 2 and "老人精神好" in page
    events = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "CompletionRecord")).all()
    assert len(events) == 2


def test_the_visit_form_refuses_a_repeated_visit(client_for, world, people, factory):
    assignment = world.assignments[SURVEY][0]
    factory.record(assignment, service_date=date(2025, 5, 1), start_time="09:00", end_time="09:40")
    client = client_for(people["supervisor"])
    url = f"/records/assignments/{assignment.id}/new"
    form = {"service_date": "2025-05-01", "start_time": "09:00", "end_time": "09:40",
            "worker_no": world.workers[0].worker_no, "household_size": "3", "annual_income_fen": "24000",
            "financial_assets_fen": "0", "survey_conclusion": "符合"}
    page = client.post(url, form, token_from=url, follow_redirects=True).get_data(as_text=True)
    assert "任务编号：与已保存的记录重复（同一任务、服务日期和开始时间）" in page


def test_a_full_disk_refuses_the_upload_in_chinese_and_leaves_nothing_behind(app, client_for, world, people,
                                                                              monkeypatch):
    client = client_for(people["contractor"])
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, 0)])
    failing_store(monkeypatch)
    response = post_file(client, upload_url(world), data, "五月.csv")
    assert response.status_code == 200 and FULL_DISK in response.get_data(as_text=True)
    assert db.session.execute(select(UploadBatch)).first() is None
    assert [path for path in Path(app.config["UPLOADS_DIR"]).rglob("*") if path.is_file()] == []
    monkeypatch.undo()  # space is back
    assert post_file(client, upload_url(world), data, "五月.csv").status_code == 302
    assert latest_batch().status == "accepted"


def test_an_empty_file_left_under_the_hash_by_an_old_failure_is_rewritten(app, client_for, world, people):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, 0)])
    stored = Path(app.config["UPLOADS_DIR"]) / "logs" / f"{hashlib.sha256(data).hexdigest()}.csv"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"")
    post_file(client_for(people["contractor"]), upload_url(world), data, "五月.csv")
    assert latest_batch().status == "accepted" and stored.read_bytes() == data


def test_a_write_failing_where_no_page_expects_it_answers_a_chinese_page_not_a_500(app, client_for, people,
                                                                                   monkeypatch):
    app.add_url_rule("/store-something", view_func=lambda: uploads_store().put("x.txt", b"x"))
    client = client_for(people["supervisor"])
    failing_store(monkeypatch)
    response = client.get("/store-something")
    assert response.status_code == 503 and FULL_DISK in response.get_data(as_text=True)


def test_errors_past_the_cap_are_counted_on_the_batch_page(app, client_for, world, people):
    app.config["UPLOAD_MAX_ERRORS"] = 2
    rows = [good_row(world, SURVEY, i, 家庭人口数="三") for i in range(3)]
    client = client_for(people["contractor"])
    post_file(client, upload_url(world), csv_bytes(SURVEY, rows), "五月.csv")
    page = client.get(f"/uploads/batches/{latest_batch().id}").get_data(as_text=True)
    assert "文件有 3 处错误，未保存任何数据" in page and page.count('class="row-error"') == 2
    assert "另有 1 处错误未列出" in page


def test_a_file_over_the_size_limit_is_refused_on_the_page_before_it_is_stored(app, client_for, world, people):
    app.config["UPLOAD_MAX_UNCOMPRESSED_BYTES"] = 1 << 20
    response = post_file(client_for(people["contractor"]), upload_url(world), b"a,b\n" * (1 << 19), "大.csv")
    assert response.status_code == 200 and "文件超过 1 MB 的上限" in response.get_data(as_text=True)
    assert db.session.execute(select(UploadBatch)).first() is None
    assert not (Path(app.config["UPLOADS_DIR"]) / "logs").exists()


def test_a_sheet_with_a_far_cell_fails_on_the_page_with_the_reason(client_for, world, people):
    client = client_for(people["contractor"])
    headers = [column.header for column in TEMPLATE_COLUMNS[SURVEY]]
    post_file(client, upload_url(world), hostile_files.far_cell_xlsx(headers), "五月.xlsx")
    batch = latest_batch()
    page = client.get(f"/uploads/batches/{batch.id}").get_data(as_text=True)
    assert batch.status == "failed" and "未保存任何数据：工作表在 XFD1048576 单元格还有内容" in page
