"""A small open tender in the browser: set-up, announcement, three bids (one bidder new), bid
opening, two members' score sheets, the computed ranking, evaluation and the admin's award."""
from playwright.sync_api import expect
from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Contract
from tests.factories import valid_credit_code

# 价格分 30; 评估方案 50 (技术), 团队稳定性 20 (商务); members 专家甲, 专家乙.
#   仁和 285,000: price (270/285)×30 = 28.42…, 方案 (45+44)/2 = 44.5, 团队 18 → 90.92
#   康宁 270,000 (lowest): price 30, 方案 40.5, 团队 16.5 → 87.00
#   阳光 300,000: price 27, 方案 47.5, 团队 18.5 → 93.00, the winner
SCORES = {"赣县区仁和社会工作服务中心": ((45, 18), (44, 18)), "赣县区康宁社会工作服务社": ((40, 17), (41, 16)),
          "赣县区阳光社会工作服务社": ((48, 19), (47, 18))}


def log_out(page):
    page.click("header form button:has-text('退出')")
    page.wait_for_url("**/login*")


def test_a_tender_from_announcement_to_award(log_in, live_server, factory, nav_to):
    renhe = factory.contractor(name="赣县区仁和社会工作服务中心")
    factory.contractor(name="赣县区阳光社会工作服务社")
    supervisor, admin = factory.user("supervisor"), factory.user("admin")

    page = log_in(supervisor)
    page.on("dialog", lambda dialog: dialog.accept())
    nav_to("采购项目")
    page.click("text=新增采购项目")
    for name, value in (("code", "GXZB-2025-01"), ("title", "2025年家计调查服务采购"),
                        ("budget_line", "社会救助服务购买（2025年部门预算）"), ("budget_fen", "320000"),
                        ("price_points", "30"), ("term_start", "2025-01-01"), ("term_end", "2025-12-31"),
                        ("household_survey_target", "1200")):
        page.fill(f"input[name={name}]", value)
    page.select_option("select[name=procurement_method]", "公开招标")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("2025年家计调查服务采购")
    expect(page.locator("#project-status")).to_have_text("筹备中")

    for name, points, technical in (("评估方案", "50", True), ("团队稳定性", "20", False)):
        page.fill("#item-form input[name=name]", name)
        page.fill("#item-form input[name=max_points]", points)
        page.set_checked("#item-form input[name=technical]", technical)
        page.click("#item-form button[type=submit]")
        expect(page.locator("#method")).to_be_visible()
    for name in ("专家甲", "专家乙"):
        page.fill("#evaluator-form input[name=name]", name)
        page.click("#evaluator-form button[type=submit]")
    page.fill("#announce-form input[name=day]", "2024-11-01")
    page.click("#announce-form button[type=submit]")
    expect(page.locator("#project-status")).to_have_text("已发布采购公告")

    for contractor, price in ((renhe.name, "285000"), ("赣县区阳光社会工作服务社", "300000")):
        page.select_option("#bid-form select[name=contractor_id]", label=contractor)
        page.fill("#bid-form input[name=price_fen]", price)
        page.click("#bid-form button[type=submit]")
        expect(page.locator("main")).to_contain_text(f"已登记 {contractor} 的投标")
    page.select_option("#bid-form select[name=contractor_id]", "0")
    for name, value in (("name", "赣县区康宁社会工作服务社"), ("credit_code", valid_credit_code(8123)),
                        ("contact_person", "刘洋"), ("contact_phone", "13907970021"), ("price_fen", "270000")):
        page.fill(f"#bid-form input[name={name}]", value)
    page.click("#bid-form button[type=submit]")
    expect(page.locator("main")).to_contain_text("已登记 赣县区康宁社会工作服务社 的投标")
    page.fill("#open-form input[name=day]", "2024-11-22")
    page.click("#open-form button[type=submit]")
    expect(page.locator("#project-status")).to_have_text("已开标，评审中")

    for index, member in enumerate(("专家甲", "专家乙")):
        page.locator("#committee ~ table tr", has_text=member).locator("a:has-text('录入评分')").click()
        for bidder, sheets in SCORES.items():
            plan, team = sheets[index]
            page.get_by_label(f"{bidder} 评估方案").fill(str(plan))
            page.get_by_label(f"{bidder} 团队稳定性").fill(str(team))
        page.click("#score-sheet button[type=submit]")
        expect(page.locator("main")).to_contain_text(f"已保存 {member} 的评分")
        page.click("text=返回项目")

    page.click("text=评审结果与定标")
    rows = page.locator("#ranking tbody tr")
    expect(rows.nth(0)).to_contain_text("赣县区阳光社会工作服务社")
    expect(rows.nth(0)).to_contain_text("推荐中标")
    expect(rows.nth(0).locator("td").nth(8)).to_have_text("93.00")
    expect(rows.nth(1).locator("td").nth(3)).to_have_text("28.42")
    expect(rows.nth(1).locator("td").nth(8)).to_have_text("90.92")
    expect(rows.nth(2).locator("td").nth(8)).to_have_text("87.00")
    page.click("button:has-text('确认评审结果')")
    expect(page.locator("#project-status")).to_have_text("已评审，待定标")
    expect(page.locator("main")).not_to_contain_text("定标并生成合同")  # the award is the admin's
    log_out(page)

    log_in(admin)
    nav_to("采购项目")
    page.click("text=GXZB-2025-01")
    page.click("text=评审结果与定标")
    expect(page.locator("#recommended")).to_have_text("赣县区阳光社会工作服务社")
    page.fill("input[name=contract_code]", "GX-HT-2025-01")
    page.fill("input[name=day]", "2024-12-01")
    page.click("button:has-text('定标并生成合同')")
    expect(page.locator("main")).to_contain_text("已定标，生成合同 GX-HT-2025-01")
    expect(page.locator("h1")).to_contain_text("2025年家计调查服务采购")
    expect(page.locator("main")).to_contain_text("赣县区阳光社会工作服务社")
    expect(page.locator("main")).to_contain_text("300,000.00 元")

    db.session.expire_all()
    contract = db.session.execute(select(Contract).where(Contract.code == "GX-HT-2025-01")).scalar_one()
    assert contract.amount_fen == 30_000_000 and contract.contractor.name == "赣县区阳光社会工作服务社"
    assert [(line.service_type, line.annual_target) for line in contract.service_lines] == [("household_survey", 1200)]
