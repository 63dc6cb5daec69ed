from oversight.adapters.files import LocalFileStore
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.clock import utcnow
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.clock import local_day
from oversight.services.spot_checks import record_spot_check
from playwright.sync_api import expect

from tests.checks_support import AFTER_Q3, add_records


def log_out(page):
    page.click("header form button:has-text('退出')")
    page.wait_for_url("**/login*")


def test_a_contractor_appeals_a_failed_check_and_a_second_supervisor_decides(log_in, factory, tmp_path, nav_to):
    contractor = factory.contractor(name="赣县区同心社会工作服务中心", workers=1)
    contract = factory.contract(contractor)
    add_records(contract, {0: 6}, financial_assets_fen=300_000)
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="b").draws[0]
    checker, second = factory.user("supervisor"), factory.user("supervisor")
    today = local_day(utcnow())
    check = record_spot_check(draw.items[0], checker=checker, method="邻里走访", checked_on=today,
                              values={"household_size": 3, "survey_conclusion": "不符合"}, note=None, uploads=[],
                              store=LocalFileStore(tmp_path), today=today)
    db.session.commit()
    contractor_user = factory.user("contractor", contractor)

    page = log_in(contractor_user)
    nav_to("抽查申诉")
    page.click(f"#appealable-table a[href$='/appeals/checks/{check.id}/new']")
    expect(page.locator("#comparison-table")).to_contain_text("调查结论")
    page.fill("#appeal-form textarea[name=reason]", "邻居所述不实，该户确属低保对象，可提供村委会证明")
    page.click("#appeal-form button:has-text('提交申诉')")
    expect(page.locator("#appeal-status")).to_have_text("待裁决")
    expect(page.locator("#appeal-reason")).to_contain_text("村委会证明")
    log_out(page)

    log_in(checker)
    nav_to("抽查申诉")
    page.click("#appeal-table a >> nth=0")
    expect(page.locator("#appeal-blocker")).to_contain_text("不能裁决")
    expect(page.locator("#appeal-actions")).not_to_contain_text("提交裁决")
    log_out(page)

    log_in(second)
    nav_to("抽查申诉")
    page.click("#appeal-table a >> nth=0")
    page.check("#appeal-actions input[value=overturned]")
    page.fill("#appeal-actions textarea[name=reason]", "村委会证明该户收入情况属实，原复检结论有误")
    page.click("#appeal-actions button:has-text('提交裁决')")
    expect(page.locator("#appeal-status")).to_have_text("已裁决")
    expect(page.locator("#appeal-decision")).to_contain_text("改判为合格")
    expect(page.locator("#appeal-decision")).to_contain_text("原复检结论有误")
    log_out(page)

    log_in(contractor_user)
    nav_to("抽查申诉")
    expect(page.locator("#appeal-table")).to_contain_text("改判为合格")
