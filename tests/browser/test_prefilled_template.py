"""A contractor downloads the prefilled template, fills in a few rows, leaves the rest, and sees
the untouched rows skipped and counted and only the started rows' errors listed."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.completion_support import SURVEY, fill_template, good_row, world  # noqa: F401  (fixture)


def test_a_partly_filled_prefilled_template_lists_only_the_real_errors(log_in, live_server, app, factory, world,
                                                                       tmp_path):
    app.config["IMPORT_SYNC"] = True
    for _ in range(9):
        factory.assignment(world.contract, service_type=SURVEY)
    contractor = factory.user("contractor", world.contractor)
    first, second, third = world.assignments[SURVEY]

    page = log_in(contractor)
    page.goto(f"{live_server.url}/uploads/contracts/{world.contract.id}/new")
    with page.expect_download() as download:
        page.locator("#template-table tr", has_text="家计调查").locator("text=下载（含完整身份证号）").click()
    template = download.value.path().read_bytes()
    numbers = [row[0] for row in load_workbook(io.BytesIO(template))["服务记录"].iter_rows(min_row=2, values_only=True)]
    assert len(numbers) == 12
    row_of = {number: excel_row for excel_row, number in enumerate(numbers, start=2)}

    filled = tmp_path / "六月家计调查.xlsx"
    filled.write_bytes(fill_template(template, {
        first.number: good_row(world, SURVEY, 0),
        second.number: good_row(world, SURVEY, 1, 家庭人口数="三口"),
        third.number: {"服务日期": "2025-05-03"},  # started, so every other empty cell is an error
    }))
    page.select_option("select[name=service_type]", SURVEY)
    page.set_input_files("input[name=file]", str(filled))
    page.click("text=上传并校验")

    expect(page.locator("#batch-status")).to_have_text("已拒收")
    expect(page.locator("#batch-errors")).to_contain_text("9 行未填写，已跳过")
    expect(page.locator("#skipped-rows")).to_have_text("9 行未填写，已跳过")
    rows = page.locator("#error-table tbody tr")
    expect(rows.first).to_contain_text("三口")
    listed = {int(rows.nth(i).locator("td").first.inner_text()) for i in range(rows.count())}
    assert listed == {row_of[second.number], row_of[third.number]}
    expect(page.locator("#error-table")).to_contain_text("不能为空")

    fixed = tmp_path / "六月家计调查-已改.xlsx"
    fixed.write_bytes(fill_template(template, {first.number: good_row(world, SURVEY, 0),
                                               second.number: good_row(world, SURVEY, 1)}))
    page.click("#upload-again")
    page.set_input_files("input[name=file]", str(fixed))
    page.click("text=上传并校验")
    expect(page.locator("#batch-accepted")).to_contain_text("已接收 2 条服务记录")
    expect(page.locator("#batch-accepted")).to_contain_text("10 行未填写，已跳过")
