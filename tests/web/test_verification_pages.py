"""The 核对比对 pages (issue 10.9): supervisors upload and see results and flags; contractors see none of it."""
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import EvidenceFlag, VerificationImport

from tests.checks_support import add_records
from tests.integration.test_verification import ECONOMIC, economic_row, xlsx


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, kind, data, filename="核对.xlsx"):
    return client.post("/verification/", {"kind": kind, "file": (io.BytesIO(data), filename)},
                       token_from="/verification/", content_type="multipart/form-data")


@pytest.fixture
def world(factory):
    ours = factory.contractor(name="本方机构", workers=1)
    contract = factory.contract(ours, code="OURS-1")
    records = add_records(contract, {0: 3})
    return {"contract": contract, "records": records, "supervisor": factory.user("supervisor"),
            "auditor": factory.user("auditor"), "contractor_user": factory.user("contractor", ours)}


def test_a_supervisor_uploads_a_file_and_sees_its_flags_on_the_record_pages(client_for, world):
    client = client_for(world["supervisor"])
    record = world["records"][0]
    response = upload(client, "economic", xlsx(ECONOMIC, [economic_row(record, **{"年收入(元)": 36000}),
                                                          economic_row(world["records"][1])]))
    assert response.status_code == 302
    entry = db.session.execute(select(VerificationImport)).scalar_one()
    assert response.headers["Location"].endswith(f"/verification/imports/{entry.id}")
    page = text(client.get(response.headers["Location"]))
    assert "导入家庭经济状况核对结果 2 行，匹配 2 行，新增疑点 1 条" in page
    assert "上报收入低于核对数据" in page and "少报 12,000.00 元" in page
    flag = db.session.execute(select(EvidenceFlag)).scalar_one()
    subject_page = text(client.get(f"/subjects/{record.assignment.subject_id}"))
    assert 'id="evidence-flags"' in subject_page and f"/verification/flags/{flag.id}" in subject_page
    visit_page = text(client.get(f"/assignments/{record.assignment_id}"))
    assert f"核对疑点 #{flag.id}" in visit_page and "待纳入抽查" in visit_page
    listing = text(client.get("/verification/flags/?status=open"))
    assert f"#{flag.id}" in listing and record.assignment.subject.name in listing
    assert f"#{flag.id}" not in text(client.get("/verification/flags/?status=closed"))


def test_a_file_with_a_bad_cell_imports_nothing_and_lists_row_column_and_why(client_for, world):
    client = client_for(world["supervisor"])
    record = world["records"][0]
    data = xlsx(ECONOMIC, [economic_row(record, **{"年收入(元)": 36000}), economic_row(record, **{"存款(元)": "很多"})])
    response = upload(client, "economic", data)
    page = text(client.get(response.headers["Location"]))
    assert "文件未导入：共 2 处错误，未导入任何数据" in page
    assert "<td class=\"num\">3</td><td>存款(元)</td><td>很多</td><td>应为金额数字（元，如 1234.50）</td>" in page
    assert "与第2行是同一人，每人只能有一行" in page
    assert db.session.execute(select(func.count()).select_from(EvidenceFlag)).scalar_one() == 0
    entry = db.session.execute(select(VerificationImport)).scalar_one()
    copy = client.get(f"/verification/imports/{entry.id}/errors.xlsx")
    assert copy.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(copy.data)).active
    assert {(c.row, c.column) for row in sheet.iter_rows() for c in row
            if c.fill is not None and c.fill.fill_type == "solid"} == {(3, 1), (3, 9)}


def test_the_templates_download_with_the_documented_headers(client_for, world):
    client = client_for(world["supervisor"])
    book = openpyxl.load_workbook(io.BytesIO(client.get("/verification/template/economic.xlsx").data))
    assert [c.value for c in book.worksheets[0][1]] == ECONOMIC
    book = openpyxl.load_workbook(io.BytesIO(client.get("/verification/template/death.xlsx").data))
    assert [c.value for c in book.worksheets[0][1]] == ["身份证号", "姓名", "死亡日期", "数据来源"]
    assert client.get("/verification/template/other.xlsx").status_code == 404


def test_a_supervisor_closes_a_flag_with_a_reason(client_for, world):
    client = client_for(world["supervisor"])
    upload(client, "economic", xlsx(ECONOMIC, [economic_row(world["records"][0], **{"房产数量": 3})]))
    flag = db.session.execute(select(EvidenceFlag)).scalar_one()
    url = f"/verification/flags/{flag.id}"
    assert "请填写关闭原因" in text(client.post(url, {"note": ""}, token_from=url))
    assert client.post(url, {"note": "已入户复核，其中两套为已拆迁房屋"}, token_from=url).status_code == 302
    db.session.expire_all()
    stored = db.session.get(EvidenceFlag, flag.id)
    assert (stored.status, stored.closing_note, stored.closed_by_id) == ("closed", "已入户复核，其中两套为已拆迁房屋",
                                                                         world["supervisor"].id)
    assert "已关闭" in text(client.get(url))


def test_contractors_never_see_the_verification_data(client_for, world):
    supervisor = client_for(world["supervisor"])
    record = world["records"][0]
    upload(supervisor, "economic", xlsx(ECONOMIC, [economic_row(record, **{"年收入(元)": 36000})]))
    entry = db.session.execute(select(VerificationImport)).scalar_one()
    flag = db.session.execute(select(EvidenceFlag)).scalar_one()
    contractor = client_for(world["contractor_user"])
    for url in ("/verification/", "/verification/flags/", f"/verification/imports/{entry.id}",
                f"/verification/flags/{flag.id}", "/verification/template/economic.xlsx",
                f"/verification/imports/{entry.id}/errors.xlsx"):
        assert contractor.get(url).status_code == 403, url
    assert upload(contractor, "economic", xlsx(ECONOMIC, [])).status_code == 403
    # Its own visit's page shows the record, not the flag.
    visit_page = text(contractor.get(f"/assignments/{record.assignment_id}"))
    assert record.worker.name in visit_page and "核对疑点" not in visit_page and flag.reason not in visit_page
    assert "核对比对" not in text(contractor.get("/dashboard"))


def test_auditors_read_the_results_but_cannot_upload_or_close(client_for, world):
    supervisor = client_for(world["supervisor"])
    upload(supervisor, "economic", xlsx(ECONOMIC, [economic_row(world["records"][0], **{"年收入(元)": 36000})]))
    flag = db.session.execute(select(EvidenceFlag)).scalar_one()
    auditor = client_for(world["auditor"])
    page = text(auditor.get("/verification/"))
    assert "导入记录" in page and 'type="file"' not in page
    assert "关闭疑点" not in text(auditor.get(f"/verification/flags/{flag.id}"))
    assert upload(auditor, "economic", xlsx(ECONOMIC, []), "other.xlsx").status_code == 403
    url = f"/verification/flags/{flag.id}"
    assert auditor.post(url, {"note": "x"}, token_from=url).status_code == 403
    assert db.session.execute(select(func.count()).select_from(VerificationImport)).scalar_one() == 1


def test_the_same_file_twice_points_to_the_earlier_import(client_for, world):
    client = client_for(world["supervisor"])
    data = xlsx(ECONOMIC, [economic_row(world["records"][0])])
    upload(client, "economic", data)
    first = db.session.execute(select(VerificationImport)).scalar_one()
    page = text(client.get(upload(client, "economic", data).headers["Location"]))
    assert f"导入 #{first.id}" in page and "不能重复导入" in page
