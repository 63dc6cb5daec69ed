"""A contractor asks to correct a record, a supervisor approves, the history shows both versions."""
from datetime import date

from playwright.sync_api import expect

from tests.attachment_support import JPEG


def test_a_contractors_correction_approved_by_the_supervisor_leaves_both_versions(log_in, live_server, factory, nav_to):
    contractor = factory.contractor(name="仁和社工服务中心", workers=2)
    contract = factory.contract(contractor, code="GX-2026-CORRECT")
    subject = factory.subject(name="刘桂兰")
    factory.record(factory.assignment(contract, subject, due_date=date(2026, 6, 30)),
                            service_date=date(2026, 5, 10))
    contractor_user = factory.user("contractor", contractor)
    supervisor = factory.user("supervisor")

    page = log_in(contractor_user)
    nav_to("服务记录")
    page.click("text=历史/更正")
    expect(page.locator("#version-table")).to_contain_text("第1版（当前）")
    page.click("text=申请更正")
    expect(page.locator("input[name=household_size]")).to_have_value("3")
    page.fill("input[name=household_size]", "4")
    page.fill("textarea[name=reason]", "入户时漏记了在外读书的孙女，户口簿为4人")
    page.set_input_files("input[name=attachments]",
                        files=[{"name": "户口簿.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    page.click("button:has-text('提交更正申请')")
    expect(page.locator("h1")).to_contain_text("待审核")
    expect(page.locator("#correction-changes")).to_contain_text("家庭人口数")
    expect(page.locator("#correction-attachments")).to_contain_text("户口簿.jpg")
    page.click("button:has-text('退出')")

    page = log_in(supervisor)
    nav_to("更正申请")
    page.locator("#correction-table a").first.click()
    expect(page.locator("#correction-changes")).to_contain_text("4")
    page.fill("#correction-review textarea[name=note] >> nth=0", "与户口簿一致")
    page.click("button:has-text('批准更正')")
    expect(page.locator("h1")).to_contain_text("已批准")
    expect(page.locator("#correction-decision")).to_contain_text("与户口簿一致")
    page.click("text=查看该记录的全部版本")

    versions = page.locator("#version-table")
    expect(versions.locator("thead")).to_contain_text("第1版")
    expect(versions.locator("thead")).to_contain_text("第2版（当前）")
    row = versions.locator("tbody tr", has_text="家庭人口数")
    expect(row.locator("td").nth(0)).to_have_text("3")
    expect(row.locator("td").nth(1)).to_have_text("4")
    expect(row.locator("td.changed")).to_have_text("4")
    expect(page.locator("#record-corrections")).to_contain_text("家庭人口数：3 → 4")
