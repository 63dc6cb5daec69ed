import re

from playwright.sync_api import expect

from tests.checks_support import add_records


def test_a_supervisor_draws_records_a_failing_recheck_and_the_contractor_sees_the_notice(log_in, live_server, factory, nav_to):
    contractor = factory.contractor(name="同心社工服务中心", workers=2)
    contract = factory.contract(contractor, code="GX-2025-BROWSER")
    add_records(contract, {0: 30, 1: 20}, annual_income_fen=2_345_678)
    supervisor = factory.user("supervisor")
    contractor_user = factory.user("contractor", contractor)

    page = log_in(supervisor)
    nav_to("抽样")
    page.click("text=新建抽样")
    page.fill("input[name=quarter]", "2025Q3")
    page.select_option("select[name=contract_id]", label=f"{contract.code} {contract.title}")
    page.fill("input[name=seed]", "浏览器测试种子")
    page.click("button:has-text('抽样')")
    expect(page.locator("#draw-seed")).to_have_text("浏览器测试种子")
    expect(page.locator("#draw-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.locator("#strata-table")).to_contain_text("随机抽查")

    page.locator("#item-table >> text=录入复检").first.click()
    expect(page.locator("main")).to_contain_text("盲态复核")
    expect(page.locator("main")).not_to_contain_text("23,456.78")
    page.fill("input[name=household_size]", "3")
    page.fill("input[name=annual_income_fen]", "23456.78")
    page.select_option("select[name=survey_conclusion]", "不符合")
    page.click("button:has-text('保存复检')")
    expect(page.locator("#verdict")).to_contain_text("不合格")
    expect(page.locator("#comparison-table")).to_contain_text("23,456.78 元")

    page.click("button:has-text('发出整改通知')")
    expect(page.locator("#notice-facts")).to_contain_text("待整改")
    page.click("button:has-text('退出')")

    page = log_in(contractor_user)
    expect(page.locator("nav")).not_to_contain_text("抽样")
    nav_to("整改通知")
    page.locator("#notice-table a").first.click()
    expect(page.locator("#comparison-table")).to_contain_text("调查结论")
    expect(page.locator("#comparison-table")).to_contain_text("不符合")
    page.fill("textarea[name=response]", "已重新入户核实并更正调查结论")
    page.click("button:has-text('提交整改情况')")
    expect(page.locator("#notice-response")).to_contain_text("已重新入户核实")
