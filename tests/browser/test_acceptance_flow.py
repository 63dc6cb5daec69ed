"""A supervisor accepts a contract's year in the browser: the team is refused without a
服务对象代表, then concluded; the installment waiting on the acceptance becomes payable and the
admin pays it; the contractor reads both on a 390 px phone."""
from datetime import date

from playwright.sync_api import expect

from oversight.extensions import db
from oversight.services import installments


def log_out(page):
    page.click("header form button:has-text('退出')")
    page.wait_for_url("**/login*")


def test_a_year_is_accepted_then_its_installment_paid(log_in, factory, nav_to, live_server):
    contractor = factory.contractor(name="赣县区仁和社会工作服务中心")
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    supervisor, admin = factory.user("supervisor"), factory.user("admin")
    installments.add_installment(contract, title="验收后进度款", kind="progress", condition="acceptance",
                                 amount_fen=25_000_000, share_bp=None, year=2025, due_on=None, user=admin)
    db.session.commit()

    page = log_in(supervisor)
    nav_to("履约验收")
    page.select_option("#open-acceptance-form select[name=contract_id]", str(contract.id))
    page.fill("#open-acceptance-form input[name=year]", "2025")
    page.click("#open-acceptance-form button:has-text('开始验收')")
    expect(page.locator("#delivery-table")).to_contain_text("家计调查")
    page.fill("#add-member input[name=name]", "李明")
    page.select_option("#add-member select[name=role]", "leader")
    page.click("#add-member button:has-text('添加成员')")
    page.select_option("#conclude select[name=conclusion]", "qualified")
    page.fill("#conclude textarea[name=opinion]", "服务按合同约定完成，同意验收")
    page.click("#conclude button:has-text('出具验收结论')")
    expect(page.locator(".flashes")).to_contain_text("没有服务对象代表")
    expect(page.locator("#acceptance-conclusion")).to_contain_text("未出具")
    page.fill("#add-member input[name=name]", "王芳")
    page.select_option("#add-member select[name=role]", "recipient")
    page.fill("#add-member input[name=organisation]", "低保户代表")
    page.click("#add-member button:has-text('添加成员')")
    expect(page.locator("#team-table")).to_contain_text("服务对象代表")
    page.select_option("#conclude select[name=conclusion]", "qualified")
    page.fill("#conclude textarea[name=opinion]", "服务按合同约定完成，同意验收")
    page.click("#conclude button:has-text('出具验收结论')")
    expect(page.locator("#acceptance-conclusion")).to_contain_text("合格")
    log_out(page)

    log_in(admin)
    page.goto(f"{live_server.url}/payments/contracts/{contract.id}")
    row = page.locator("#installment-1")
    expect(row).to_contain_text("可支付")
    row.locator("button:has-text('登记付款')").click()
    expect(page.locator("#installment-1")).to_contain_text("已支付")
    expect(page.locator("#paid-total")).to_contain_text("250,000.00")
    log_out(page)

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(factory.user("contractor", contractor))
    page.goto(f"{live_server.url}/payments/contracts/{contract.id}")
    expect(page.locator("#installment-1")).to_contain_text("已支付")
    expect(page.locator("#installment-table button")).to_have_count(0)
    page.goto(f"{live_server.url}/acceptance/")
    page.click("#acceptance-table a >> nth=0")
    expect(page.locator("#acceptance-conclusion")).to_contain_text("合格")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
