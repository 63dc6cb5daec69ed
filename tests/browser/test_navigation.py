"""The grouped navigation: the admin's whole menu on one line at 1366 px, and its groups opened by
click and by keyboard."""
from __future__ import annotations

from playwright.sync_api import expect

DESKTOP = {"width": 1366, "height": 768}


def _row_heights(page) -> dict:
    """The menu bar's height and its tallest single entry; the vertical centres of the brand, each
    entry and the user's links (the header centres its items, so one line means one centre)."""
    return page.evaluate("""() => {
        const nav = document.querySelector('nav.mainnav');
        const entries = [...nav.children].map(entry => (entry.querySelector('summary') || entry));
        return {
            nav: nav.getBoundingClientRect().height,
            entry: Math.max(...entries.map(entry => entry.getBoundingClientRect().height)),
            centres: [...nav.children, document.querySelector('.brand'), document.querySelector('.who')]
                .map(element => { const box = element.getBoundingClientRect(); return (box.top + box.bottom) / 2; }),
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        };
    }""")


def _link(page, name):
    return page.locator("nav.mainnav").get_by_role("link", name=name, exact=True)


def test_the_admins_menu_fits_one_line_at_1366_px(log_in, live_server, factory, page):
    page.set_viewport_size(DESKTOP)
    log_in(factory.user("admin"))
    heights = _row_heights(page)
    assert heights["nav"] <= heights["entry"] + 1  # one row of entries, none wrapped below
    assert max(heights["centres"]) - min(heights["centres"]) <= 2  # brand, entries, user's links: one line
    assert heights["overflow"] <= 0
    assert page.locator("nav.mainnav > *").count() == 5  # 首页 and the four groups
    expect(page.locator("nav.mainnav summary")).to_have_text(["业务", "考核", "导出", "系统"])


def test_a_group_opens_on_click_and_one_at_a_time(log_in, live_server, factory, page):
    page.set_viewport_size(DESKTOP)
    log_in(factory.user("admin"))
    users = _link(page, "用户")
    expect(users).to_be_hidden()
    page.click("nav.mainnav summary:text-is('系统')")
    expect(users).to_be_visible()
    page.click("nav.mainnav summary:text-is('考核')")
    expect(users).to_be_hidden()  # opening another group closes this one
    expect(_link(page, "年度评价")).to_be_visible()
    page.click("h1")
    expect(page.locator("nav.mainnav details[open]")).to_have_count(0)  # a click elsewhere closes it

    page.click("nav.mainnav summary:text-is('系统')")
    users.click()
    page.wait_for_url(f"{live_server.url}/users/")
    expect(page.locator("nav.mainnav details.current summary")).to_have_text("系统")


def test_the_menu_is_usable_by_keyboard(log_in, live_server, factory, page):
    page.set_viewport_size(DESKTOP)
    log_in(factory.user("admin"))
    page.focus("nav.mainnav summary:text-is('业务')")
    page.keyboard.press("Enter")
    contracts = _link(page, "合同")
    expect(contracts).to_be_visible()
    page.keyboard.press("Escape")
    expect(contracts).to_be_hidden()
    expect(page.locator("nav.mainnav summary:text-is('业务')")).to_be_focused()

    page.keyboard.press("Space")
    expect(contracts).to_be_visible()
    page.keyboard.press("Tab")  # the first entry of the open group
    expect(contracts).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/contracts/")


def test_a_contractor_sees_its_own_groups_on_one_row(log_in, live_server, factory, page):
    contractor = factory.contractor("赣县区阳光社会工作服务中心")
    page.set_viewport_size(DESKTOP)
    log_in(factory.user("contractor", contractor))
    expect(page.locator("nav.mainnav summary")).to_have_text(["业务", "考核", "导出", "系统"])
    expect(page.locator("nav.mainnav > a")).to_have_text(["首页"])
    page.locator("nav.mainnav summary", has_text="系统").click()
    expect(page.locator("nav.mainnav details[open] a")).to_have_text(["通知", "接口令牌"])
    centres = _row_heights(page)["centres"]
    assert max(centres) - min(centres) <= 2
