"""Bulk import through the page: all or nothing, every bad cell reported, a marked copy to download."""
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import Assignment, AuditEvent, Subject
from oversight.services import bulk_import
from tests import hostile_files
from tests.factories import valid_id_number
from tests.store_support import FULL_DISK, failing_store

HEADERS = ["类型", "姓名", "身份证号", "乡镇/街道", "村/社区", "类别", "联系电话", "家庭人口数"]


def _xlsx(headers, rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, kind, data, filename):
    return client.post("/imports/", {"kind": kind, "file": (io.BytesIO(data), filename)}, token_from="/imports/",
                       content_type="multipart/form-data")


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


GOOD_ROWS = [
    ["家庭", "钟桂兰", valid_id_number(101), "梅林镇", "华坪村", "低保", "13807970001", 3],
    ["个人", "曾凡荣", valid_id_number(102, birth="19380212"), "江口镇", "江口村", "特困", "", ""],
]


def test_a_good_sheet_is_imported_whole_and_audited(client_for, factory):
    client = client_for(factory.user("supervisor"))
    page = _upload(client, "subjects", _xlsx(HEADERS, GOOD_ROWS), "对象.xlsx").get_data(as_text=True)
    assert "已导入服务对象 2 条" in page
    names = db.session.execute(select(Subject.name).order_by(Subject.name)).scalars().all()
    assert sorted(names) == sorted(["钟桂兰", "曾凡荣"])
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "import")).scalar_one()
    assert event.changes["rows"] == 2 and event.object_type == "Subject"


def test_a_sheet_with_one_bad_cell_imports_nothing_and_names_the_cell(client_for, factory):
    client = client_for(factory.user("supervisor"))
    bad = [*GOOD_ROWS, ["家庭", "李四", "360704195001010011", "梅林镇", "华坪村", "低保", "", 2]]
    page = _upload(client, "subjects", _xlsx(HEADERS, bad), "对象.xlsx").get_data(as_text=True)
    assert "未保存任何数据" in page
    assert "<td class=\"num\">4</td><td>身份证号</td><td>360704195001010011</td><td>身份证号校验位错误</td>" in page
    assert _count(Subject) == 0


def test_the_error_copy_marks_exactly_the_bad_cells(client_for, factory):
    client = client_for(factory.user("supervisor"))
    bad = [GOOD_ROWS[0], ["家庭", "李四", valid_id_number(103), "梅林镇", "华坪村", "五保", "123", 2]]
    page = _upload(client, "subjects", _xlsx(HEADERS, bad), "对象.xlsx").get_data(as_text=True)
    link = page.split('href="/imports/errors/')[1].split('"')[0]
    report = client.get(f"/imports/errors/{link}")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    marked = {(cell.row, cell.column) for row in sheet.iter_rows() for cell in row
              if cell.fill is not None and cell.fill.fill_type == "solid"}
    assert marked == {(3, 6), (3, 7)}  # 类别 and 联系电话 of Excel row 3
    assert "类别" in sheet.cell(row=3, column=9).value and "联系电话" in sheet.cell(row=3, column=9).value
    assert sheet.cell(row=2, column=9).value in (None, "")


def test_a_gbk_csv_is_accepted(client_for, factory):
    client = client_for(factory.user("supervisor"))
    lines = [",".join(HEADERS)] + [",".join(str(v) for v in row) for row in GOOD_ROWS]
    data = "\r\n".join(lines).encode("gbk")
    assert "已导入服务对象 2 条" in _upload(client, "subjects", data, "对象.csv").get_data(as_text=True)


def test_an_unreadable_file_is_reported(client_for, factory):
    client = client_for(factory.user("supervisor"))
    page = _upload(client, "subjects", b"\x00\x01not a sheet", "对象.xlsx").get_data(as_text=True)
    assert "文件无法读取" in page and _count(Subject) == 0


def test_a_crash_in_the_middle_of_an_import_leaves_nothing(client_for, factory, monkeypatch):
    client = client_for(factory.user("supervisor"))
    events_before = _count(AuditEvent)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk_import, "record_event", crash)
    with pytest.raises(RuntimeError):
        _upload(client, "subjects", _xlsx(HEADERS, GOOD_ROWS), "对象.xlsx")
    db.session.rollback()
    assert _count(Subject) == 0 and _count(AuditEvent) == events_before


def test_assignments_sheet_issues_numbered_assignments(client_for, factory):
    contract = factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31), code="GX-2026-9")
    household = factory.subject("household", name="钟桂兰")
    other = factory.subject("household", name="曾凡荣")  # one open survey per household (issue 10.10)
    client = client_for(factory.user("supervisor"))
    data = _xlsx(["任务编号", "合同编号", "服务类型", "服务对象姓名", "身份证号", "截止日期"],
                 [["", "GX-2026-9", "家计调查", "钟桂兰", household.id_number, date(2026, 6, 30)],
                  ["RW-MANUAL-1", "GX-2026-9", "家计调查", "曾凡荣", other.id_number, "2026年7月31日"]])
    page = _upload(client, "assignments", data, "任务.xlsx").get_data(as_text=True)
    assert "已导入任务 2 条" in page
    rows = db.session.execute(select(Assignment).order_by(Assignment.due_date)).scalars().all()
    assert [a.due_date for a in rows] == [date(2026, 6, 30), date(2026, 7, 31)]
    assert rows[0].number.startswith("RW") and rows[1].number == "RW-MANUAL-1"
    assert {a.contract_id for a in rows} == {contract.id} and {a.status for a in rows} == {"assigned"}


def test_templates_download_with_the_headers(client_for, factory):
    client = client_for(factory.user("supervisor"))
    response = client.get("/imports/template/subjects.xlsx")
    headers = [c.value for c in openpyxl.load_workbook(io.BytesIO(response.data)).active[1]]
    assert headers == HEADERS


def test_contractors_cannot_import(client_for, factory):
    contractor = factory.contractor()
    client = client_for(factory.user("contractor", contractor))
    assert client.get("/imports/").status_code == 403


@pytest.mark.parametrize(("name", "build", "said"), [
    ("远处单元格.xlsx", lambda: hostile_files.far_cell_xlsx(HEADERS), "工作表在 XFD1048576 单元格还有内容"),
    ("压缩炸弹.xlsx", lambda: hostile_files.zip_bomb_xlsx(HEADERS, 300 << 20), "文件解压后超过 200 MB 的上限"),
    ("实体.xlsx", lambda: hostile_files.billion_laughs_xlsx(HEADERS), "文件中含有文档类型声明（DTD）"),
    ("空字符.csv", lambda: hostile_files.nul_csv(HEADERS), "文件中含有空字符（NUL）"),
])
def test_hostile_sheets_get_the_limits_of_the_log_upload(client_for, factory, name, build, said):
    page = _upload(client_for(factory.user("supervisor")), "subjects", build(), name).get_data(as_text=True)
    assert f"文件无法读取：{said}" in page and _count(Subject) == 0


def test_errors_past_the_cap_are_counted_on_the_page_and_in_the_copy(app, client_for, factory):
    app.config["UPLOAD_MAX_ERRORS"] = 3
    rows = [["家庭", f"张{n}", "123", "梅林镇", "华坪村", "低保", "", 2] for n in range(4)]
    page = _upload(client_for(factory.user("supervisor")), "subjects", _xlsx(HEADERS, rows), "对象.xlsx")
    text = page.get_data(as_text=True)
    assert "共 4 处错误" in text and "另有 1 处错误未列出" in text and text.count('class="row-error"') == 3


def test_a_store_that_cannot_take_the_error_copy_still_lists_the_errors(client_for, factory, monkeypatch):
    client = client_for(factory.user("supervisor"))
    bad = [GOOD_ROWS[0], ["家庭", "李四", valid_id_number(103), "梅林镇", "华坪村", "五保", "", 2]]
    failing_store(monkeypatch)
    response = _upload(client, "subjects", _xlsx(HEADERS, bad), "对象.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"标注错误的文件未能生成：{FULL_DISK}" in page
    assert "<td>类别</td>" in page and "/imports/errors/" not in page
