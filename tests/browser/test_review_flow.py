from datetime import date

from playwright.sync_api import expect

from tests.performance_support import build_quarter


def log_out(page):
    page.click("header form button:has-text('退出')")
    page.wait_for_url("**/login*")


def test_a_quarter_from_scoring_to_the_locked_review_and_the_annual_report(log_in, live_server, factory, nav_to):
    contractor = factory.contractor(name="赣县区同心社会工作服务中心")
    # The term covers only the third quarter, so that one approved quarter makes the year.
    contract = factory.contract(contractor, term_start=date(2025, 7, 1), term_end=date(2025, 9, 30))
    supervisor, admin = factory.user("supervisor"), factory.user("admin")
    contractor_user = factory.user("contractor", contractor)
    build_quarter(contract, supervisor)

    page = log_in(supervisor)
    page.on("dialog", lambda dialog: dialog.accept())
    nav_to("季度考核")
    page.fill("#score-form input[name=quarter]", "2025Q3")
    page.select_option("#score-form select[name=contract_id]", str(contract.id))
    page.click("#score-form button[type=submit]")
    expect(page.locator("#review-total")).to_have_text("58.35")
    expect(page.locator("h1")).to_contain_text("草稿")
    page.click("#indicator-table >> text=45")  # the completion numerator: the completed assignments
    expect(page.locator("main")).to_contain_text("共 45 条")
    page.go_back()
    page.click("#review-actions button:has-text('发布给承接机构')")
    expect(page.locator("h1")).to_contain_text("已发布")
    log_out(page)

    log_in(contractor_user)
    nav_to("季度考核")
    page.click("#review-table >> text=2025Q3")
    page.check("#review-actions input[value=disagree]")
    page.fill("#review-actions textarea[name=comment]", "第三季度有5户对象外出务工，无法按期入户")
    page.click("#review-actions button:has-text('提交意见')")
    expect(page.locator("h1")).to_contain_text("承接方有异议")
    expect(page.locator("#contractor-comment")).to_contain_text("外出务工")
    log_out(page)

    log_in(admin)
    nav_to("季度考核")
    page.click("#review-table >> text=2025Q3")
    page.fill("#review-actions textarea[name=decision]", "外出对象已提供务工证明，酌情加1分")
    page.fill("#review-actions input[name=adjustment]", "1")
    page.click("#review-actions button:has-text('裁定')")
    expect(page.locator("#review-total")).to_have_text("59.35")
    page.click("#review-actions button:has-text('审定并锁定')")
    expect(page.locator("h1")).to_contain_text("已审定锁定")
    expect(page.locator("#review-actions")).not_to_contain_text("添加加减分")

    log_out(page)

    # The year: the supervisor drafts and publishes it, the contractor agrees, the admin approves.
    log_in(supervisor)
    nav_to("年度评价")
    page.select_option("#evaluate-form select[name=contract_id]", str(contract.id))
    page.fill("#evaluate-form input[name=year]", "2025")
    page.click("#evaluate-form button[type=submit]")
    expect(page.locator("#evaluation-score")).to_contain_text("59.35")
    expect(page.locator("#payable")).to_contain_text("未定")
    page.click("#evaluation-actions button:has-text('发布给承接机构')")
    expect(page.locator("h1")).to_contain_text("已发布")
    log_out(page)
    log_in(contractor_user)
    nav_to("年度评价")
    page.click("#evaluation-table >> text=2025")
    page.check("#evaluation-actions input[value=agree]")
    page.click("#evaluation-actions button:has-text('提交意见')")
    expect(page.locator("h1")).to_contain_text("承接方同意")
    log_out(page)
    log_in(admin)
    nav_to("年度评价")
    page.click("#evaluation-table >> text=2025")
    page.click("#evaluation-actions button:has-text('审定并锁定')")
    expect(page.locator("h1")).to_contain_text("已审定锁定")
    # 1,200,000 × 30 % = 360,000 linked; 不合格 (< 60) pays none of it.
    expect(page.locator("#payable")).to_have_text("0.00 元")
    with page.expect_download() as download:
        page.click("text=年度评价报告（.docx）")
    assert download.value.suggested_filename.endswith(".docx")
    with open(download.value.path(), "rb") as report:
        assert report.read(2) == b"PK"
