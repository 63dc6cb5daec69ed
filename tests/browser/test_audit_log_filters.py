"""An auditor narrows the audit log to one user's full-ID views, reads the change in Chinese,
and exports exactly what the filters found."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from oversight.extensions import db
from tests.completion_support import SURVEY, world  # noqa: F401  (fixture)
from tests.conftest import Client


def test_an_auditor_filters_the_log_and_exports_what_it_shows(log_in, live_server, app, factory, world, nav_to):
    contractor = factory.user("contractor", world.contractor)
    other = factory.user("contractor", world.contractor)
    for user in (contractor, other):
        client = Client(app)
        client.login(user.username, factory.PASSWORD)
        client.get(f"/uploads/contracts/{world.contract.id}/template/{SURVEY}.xlsx?prefill=1")
    assignment = world.assignments[SURVEY][0]
    assignment.note = "已电话预约"
    db.session.commit()

    page = log_in(factory.user("auditor"))
    nav_to("审计日志")
    page.select_option("select[name=user]", str(contractor.id))
    page.select_option("select[name=action]", label="导出完整个人信息")
    page.click("#audit-filters >> text=筛选")
    rows = page.locator("#audit-table tr.audit-event")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".audit-actor")).to_have_text(f"{contractor.display_name}（{contractor.username}）")
    expect(rows.first.locator(".audit-object")).to_have_text("服务对象")
    expect(rows.first.locator(".audit-changes")).to_contain_text("家计调查预填模板")
    expect(rows.first.locator(".audit-changes")).to_contain_text("身份证号")

    with page.expect_download() as download:
        page.click("#export-xlsx")
    table = list(load_workbook(io.BytesIO(download.value.path().read_bytes())).active.values)
    assert download.value.suggested_filename.endswith(".xlsx")
    assert table[0][:5] == ("事件编号", "时间（北京时间）", "操作人", "地址", "动作")
    assert [row[0] for row in table[1:]] == [int(rows.first.locator("td").first.inner_text())]

    page.select_option("select[name=user]", "")
    page.select_option("select[name=action]", label="查看个人信息与导出（全部）")
    page.click("#audit-filters >> text=筛选")
    # Both full-ID views, and the export just made (it is itself recorded).
    expect(rows).to_have_count(3)
    expect(rows.first.locator(".audit-action")).to_have_text("导出")
    expect(rows.first.locator(".audit-changes")).to_contain_text("操作人：")

    page.select_option("select[name=action]", label="修改")
    page.select_option("select[name=object_type]", label="任务")
    page.fill("input[name=object_id]", str(assignment.id))
    page.click("#audit-filters >> text=筛选")
    expect(rows).to_have_count(1)
    changes = rows.first.locator(".audit-changes")
    expect(changes.locator("thead")).to_have_text("字段原值新值")
    expect(changes.locator("tbody tr", has_text="备注")).to_have_text("备注空已电话预约")
    with page.expect_download() as download:
        page.click("#export-csv")
    lines = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(lines) == 2 and lines[1][4:7] == ["修改", "任务", str(assignment.id)]
    assert lines[1][7] == "备注：空 → 已电话预约"
